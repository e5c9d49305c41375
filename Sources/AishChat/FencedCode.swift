import AishBase

/// `chat -x`: the first fenced code block of a reply that is not empty, as Markdown (CommonMark) reads one:
/// a line of three or more backticks or tildes, up to three spaces in, opens it (an info
/// string such as `bash` may follow); a line of the same character, at least as many and
/// nothing else, closes it. A block the reply never closes (cut by max_tokens) runs to the end.
package enum FencedCode {
    /// The block's lines, each ending in a newline; nil when the reply has no fence.
    package static func first(in reply: String) -> String? {
        var fence: (char: Character, count: Int, indent: Int)?
        var body = ""
        // "\r\n" is one Character in Swift.
        var lines = reply.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if reply.last == "\n" || reply.last == "\r\n" { lines.removeLast() }
        for line in lines {
            let indent = line.prefix(while: { $0 == " " }).count
            let rest = line.dropFirst(indent)
            if let open = fence {
                if indent <= 3, let c = rest.first, c == open.char {
                    let run = rest.prefix(while: { $0 == c }).count
                    if run >= open.count, rest.dropFirst(run).allSatisfy({ $0 == " " || $0 == "\t" }) {
                        if !body.isEmpty { return body }
                        fence = nil   // an empty block: look on
                        continue
                    }
                }
                // Content lines lose as many leading spaces as the opening fence had.
                body += line.dropFirst(min(indent, open.indent)) + "\n"
                continue
            }
            guard indent <= 3, let c = rest.first, c == "`" || c == "~" else { continue }
            let run = rest.prefix(while: { $0 == c }).count
            guard run >= 3 else { continue }
            // A backtick fence's info string may not hold a backtick (that is inline code).
            if c == "`", rest.dropFirst(run).contains("`") { continue }
            fence = (c, run, indent)
        }
        return fence == nil || body.isEmpty ? nil : body
    }
}
