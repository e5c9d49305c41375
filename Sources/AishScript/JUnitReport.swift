import FoundationEssentials
import Glibc
import AishBase

/// JUnit XML for CI (`--junit FILE`): one test suite per script file, one test case per
/// `expect` (named by its assertion, with file and line), a `<failure>` for a failed
/// expect and an `<error>` for a command that failed and stopped the script.
package enum JUnitReport {
    package static func xml(_ ledger: ExpectLedger, suiteName: String) -> String {
        let all = ledger.cases.map { ($0, false) } + ledger.commandErrors.map { ($0, true) }
        var files: [String] = []
        for (c, _) in all where !files.contains(c.file) { files.append(c.file) }
        if files.isEmpty { files = [suiteName] }
        let failures = ledger.failed
        let errors = ledger.commandErrors.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"\(escape(suiteName))\" tests=\"\(all.count)\" failures=\"\(failures)\" errors=\"\(errors)\">\n"
        for file in files {
            let inFile = all.filter { $0.0.file == file }
            let fileFailures = inFile.filter { !$0.0.passed && !$0.1 }.count
            let fileErrors = inFile.filter(\.1).count
            let time = inFile.reduce(0) { $0 + $1.0.seconds }
            out += "  <testsuite name=\"\(escape(file))\" tests=\"\(inFile.count)\" failures=\"\(fileFailures)\""
                + " errors=\"\(fileErrors)\" time=\"\(seconds(time))\">\n"
            for (c, isError) in inFile {
                let name = isError ? c.assertion : "expect \(c.assertion)"
                out += "    <testcase name=\"\(escape(name))\" classname=\"\(escape(file))\" file=\"\(escape(c.file))\""
                    + " line=\"\(c.line)\" time=\"\(seconds(c.seconds))\""
                if c.passed {
                    out += "/>\n"
                    continue
                }
                out += ">\n"
                let tag = isError ? "error" : "failure"
                let message = c.message ?? "failed"
                out += "      <\(tag) message=\"\(escape(message))\">\(escape("\(c.file):\(c.line): \(message)"))</\(tag)>\n"
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    private static func seconds(_ s: Double) -> String { cFormat("%.3f", s) }

    /// XML text and attribute escaping; characters XML 1.0 cannot hold become U+FFFD.
    package static func escape(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            case "\t", "\r": out.unicodeScalars.append(u)
            default:
                if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}
