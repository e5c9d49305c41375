import AishBase

// The only file that touches libyaml. It reads libyaml's event stream (not its document
// loader) so that aliases can be bounded before they are expanded and duplicate keys can be
// reported with both positions. libyaml marks are 0-based; everything leaving this file is
// 1-based.

@preconcurrency import CYAML

package enum YAMLParser {
    /// Parses the first document of `bytes`. Syntax errors and exceeded limits throw one
    /// `YAMLError`; duplicate keys are collected in `problems` and the parse goes on.
    package static func parse(_ bytes: [UInt8], file: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLDocument {
        let parser = EventReader(file: file)
        let builder = TreeBuilder(file: file, limits: limits)
        let result: Result<Void, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            parser.setInput(buffer)
            do throws(YAMLError) {
                try parser.run(into: builder, source: buffer)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case let .failure(error) = result { throw error }
        return YAMLDocument(root: builder.root, problems: builder.problems)
    }

    package static func parse(_ text: String, file: String, limits: YAMLLimits = YAMLLimits()) throws(YAMLError) -> YAMLDocument {
        try parse(Array(text.utf8), file: file, limits: limits)
    }
}

/// Owns the libyaml parser handle (heap-allocated, freed in deinit).
private final class EventReader {
    private let handle: UnsafeMutablePointer<yaml_parser_t>
    private let file: String

    init(file: String) {
        self.file = file
        handle = .allocate(capacity: 1)
        guard yaml_parser_initialize(handle) == 1 else { fatalError("libyaml: out of memory initialising the parser") }
    }

    deinit {
        yaml_parser_delete(handle)
        handle.deallocate()
    }

    /// The buffer must stay alive for the whole parse (the caller's closure guarantees it).
    func setInput(_ buffer: UnsafeBufferPointer<UInt8>) {
        yaml_parser_set_input_string(handle, buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!, buffer.count)
    }

    func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    func run(into builder: TreeBuilder, source: UnsafeBufferPointer<UInt8>) throws(YAMLError) {
        var event = yaml_event_t()
        var documents = 0
        while true {
            guard yaml_parser_parse(handle, &event) == 1 else { throw syntaxError(source: source) }
            defer { yaml_event_delete(&event) }
            let at = location(event.start_mark)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    throw YAMLError(location: at, message: "more than one YAML document in this file (aish reads one)")
                }
            case YAML_ALIAS_EVENT:
                try builder.alias(name: Self.string(event.data.alias.anchor), at: at)
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
                let style: YAMLScalarStyle
                switch s.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .plain
                }
                // A non-specific "!" tag on a plain scalar just means "string".
                let tag = Self.optionalString(s.tag)
                try builder.scalar(value, style: tag == "!" ? .doubleQuoted : style, tag: tag == "!" ? nil : tag,
                                   anchor: Self.optionalString(s.anchor), at: at)
            case YAML_SEQUENCE_START_EVENT:
                let s = event.data.sequence_start
                try builder.begin(sequence: true, tag: Self.optionalString(s.tag), anchor: Self.optionalString(s.anchor), at: at)
            case YAML_MAPPING_START_EVENT:
                let m = event.data.mapping_start
                try builder.begin(sequence: false, tag: Self.optionalString(m.tag), anchor: Self.optionalString(m.anchor), at: at)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                try builder.end()
            default:
                break
            }
        }
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String {
        guard let p else { return "" }
        return String(cString: UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self))
    }

    private static func optionalString(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    /// Turns libyaml's problem/context pair into one finding worded for an operator.
    private func syntaxError(source: UnsafeBufferPointer<UInt8>) -> YAMLError {
        let p = handle.pointee
        let problem = p.problem.map { String(cString: $0) } ?? "unknown error"
        let context = p.context.map { String(cString: $0) }
        if p.error == YAML_READER_ERROR {
            let line = Self.lineNumber(ofByte: p.problem_offset, in: source)
            return YAMLError(location: SourceLocation(file: file, line: line.line, column: line.column),
                             message: "the file is not valid UTF-8 text (\(problem))")
        }
        let at = location(p.problem_mark)
        let contextAt = location(p.context_mark)
        if Self.lineHasTabIndent(line: Int(p.problem_mark.line), in: source) || Self.byte(at: p.problem_mark, in: source) == 0x09 {
            let col = Self.firstTabColumn(line: Int(p.problem_mark.line), in: source) ?? at.column
            return YAMLError(location: SourceLocation(file: file, line: at.line, column: col),
                             message: "tab character in indentation (YAML indents with spaces only)")
        }
        if context == "while scanning a quoted scalar" {
            return YAMLError(location: contextAt, message: "unterminated quoted string (the quote opened here is never closed)")
        }
        switch problem {
        case "did not find expected key", "did not find expected '-' indicator",
             "mapping values are not allowed in this context", "block sequence entries are not allowed in this context":
            var message = "bad indentation or structure: \(problem)"
            if let context, p.context_mark.line != p.problem_mark.line || p.context_mark.column != p.problem_mark.column {
                message += " (\(context) that started at line \(contextAt.line), column \(contextAt.column))"
            }
            return YAMLError(location: at, message: message)
        default:
            var message = problem
            if let context { message += " (\(context) that started at line \(contextAt.line), column \(contextAt.column))" }
            return YAMLError(location: at, message: message)
        }
    }

    private static func lineStart(_ line: Int, in source: UnsafeBufferPointer<UInt8>) -> Int? {
        var current = 0
        var i = 0
        if line == 0 { return 0 }
        while i < source.count {
            if source[i] == 0x0A {
                current += 1
                if current == line { return i + 1 }
            }
            i += 1
        }
        return nil
    }

    private static func byte(at mark: yaml_mark_t, in source: UnsafeBufferPointer<UInt8>) -> UInt8? {
        guard let start = lineStart(Int(mark.line), in: source) else { return nil }
        let i = start + Int(mark.column)
        return i < source.count ? source[i] : nil
    }

    /// True when the line's leading whitespace holds a tab.
    private static func lineHasTabIndent(line: Int, in source: UnsafeBufferPointer<UInt8>) -> Bool {
        guard var i = lineStart(line, in: source) else { return false }
        while i < source.count, source[i] == 0x20 || source[i] == 0x09 {
            if source[i] == 0x09 { return true }
            i += 1
        }
        return false
    }

    private static func firstTabColumn(line: Int, in source: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let start = lineStart(line, in: source) else { return nil }
        var i = start
        while i < source.count, source[i] != 0x0A {
            if source[i] == 0x09 { return i - start + 1 }
            i += 1
        }
        return nil
    }

    private static func lineNumber(ofByte offset: Int, in source: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for i in 0..<min(offset, source.count) {
            if source[i] == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }
}

/// Builds the node tree from events, enforcing the limits and collecting duplicate keys.
private final class TreeBuilder {
    private struct Frame {
        var isSequence: Bool
        var tag: String?
        var anchor: String?
        var location: SourceLocation
        var items: [YAMLNode] = []
        var pairs: [YAMLPair] = []
        var pendingKey: YAMLNode?
        /// Scalar keys seen so far: duplicate detection stays linear for huge mappings.
        var keys: [String: SourceLocation] = [:]
        var nodeCountAtStart: Int
        /// Levels of collections below this one (through aliases too).
        var height = 0
    }

    let file: String
    let limits: YAMLLimits
    private(set) var root: YAMLNode?
    private(set) var problems: [YAMLError] = []
    private var stack: [Frame] = []
    /// Anchor name → (node, its size in nodes after expansion, its levels of collections).
    /// An alias may not nest the document deeper than `maxDepth` either: a chain of anchors
    /// each nesting the one before built trees thousands of levels deep from a small file.
    private var anchors: [String: (node: YAMLNode, size: Int, height: Int)] = [:]
    /// Anchors whose node is still being built: an alias to one of them is a cycle.
    private var openAnchors: Set<String> = []
    private var nodeCount = 0

    init(file: String, limits: YAMLLimits) {
        self.file = file
        self.limits = limits
    }

    private func count(_ n: Int, at: SourceLocation, viaAlias alias: String? = nil) throws(YAMLError) {
        nodeCount += n
        if nodeCount > limits.maxNodes {
            if let alias {
                throw YAMLError(location: at, message: "alias '*\(alias)' expands the document past \(limits.maxNodes) nodes (alias bomb?)")
            }
            throw YAMLError(location: at, message: "document has more than \(limits.maxNodes) nodes")
        }
    }

    func scalar(_ value: String, style: YAMLScalarStyle, tag: String?, anchor: String?, at: SourceLocation) throws(YAMLError) {
        try count(1, at: at)
        let node = YAMLNode(.scalar(value, style), tag: tag, location: at)
        if let anchor { anchors[anchor] = (node, 1, 0) }
        try add(node, height: 0)
    }

    func alias(name: String, at: SourceLocation) throws(YAMLError) {
        if openAnchors.contains(name) {
            throw YAMLError(location: at, message: "recursive alias '*\(name)' refers to a node that contains it")
        }
        guard let target = anchors[name] else {
            throw YAMLError(location: at, message: "unknown alias '*\(name)' (no anchor '&\(name)' before it)")
        }
        try count(target.size, at: at, viaAlias: name)
        if stack.count + target.height > limits.maxDepth {
            throw YAMLError(location: at, message: "alias '*\(name)' nests the document deeper than \(limits.maxDepth) levels")
        }
        try add(target.node, height: target.height)
    }

    func begin(sequence: Bool, tag: String?, anchor: String?, at: SourceLocation) throws(YAMLError) {
        try count(1, at: at)
        if stack.count >= limits.maxDepth {
            throw YAMLError(location: at, message: "nesting deeper than \(limits.maxDepth) levels")
        }
        if let anchor { openAnchors.insert(anchor) }
        stack.append(Frame(isSequence: sequence, tag: tag, anchor: anchor, location: at, nodeCountAtStart: nodeCount))
    }

    func end() throws(YAMLError) {
        let frame = stack.removeLast()
        let node: YAMLNode
        if frame.isSequence {
            node = YAMLNode(.sequence(frame.items), tag: frame.tag, location: frame.location)
        } else {
            node = YAMLNode(.mapping(mergeKeys(frame.pairs)), tag: frame.tag, location: frame.location)
        }
        let height = frame.height + 1
        if let anchor = frame.anchor {
            openAnchors.remove(anchor)
            anchors[anchor] = (node, nodeCount - frame.nodeCountAtStart + 1, height)
        }
        try add(node, height: height)
    }

    private func add(_ node: YAMLNode, height: Int) throws(YAMLError) {
        guard !stack.isEmpty else {
            root = node
            return
        }
        let top = stack.count - 1
        stack[top].height = max(stack[top].height, height)
        if stack[top].isSequence {
            stack[top].items.append(node)
        } else if let key = stack[top].pendingKey {
            if let text = key.scalar, text != "<<" {
                if let first = stack[top].keys[text] {
                    problems.append(YAMLError(location: key.location, message: "duplicate key '\(text)' (first defined at \(first))"))
                } else {
                    stack[top].keys[text] = key.location
                }
            }
            stack[top].pairs.append(YAMLPair(key: key, value: node))
            stack[top].pendingKey = nil
        } else {
            stack[top].pendingKey = node
        }
    }

    /// Resolves YAML merge keys (`<<: *base`), which libyaml leaves to the application:
    /// keys written in the mapping win over merged ones.
    private func mergeKeys(_ pairs: [YAMLPair]) -> [YAMLPair] {
        guard pairs.contains(where: { $0.key.scalar == "<<" && $0.key.isPlainScalar }) else { return pairs }
        var own = pairs.filter { !($0.key.scalar == "<<" && $0.key.isPlainScalar) }
        var present = Set(own.compactMap { $0.key.scalar })
        var merged: [YAMLPair] = []
        for p in pairs where p.key.scalar == "<<" && p.key.isPlainScalar {
            let sources = p.value.items ?? [p.value]
            for source in sources {
                guard let sourcePairs = source.pairs else {
                    problems.append(YAMLError(location: source.location, message: "merge key '<<' needs a mapping or a list of mappings"))
                    continue
                }
                for sp in sourcePairs {
                    if let k = sp.key.scalar, !present.insert(k).inserted { continue }
                    merged.append(sp)
                }
            }
        }
        own.append(contentsOf: merged)
        return own
    }
}
