import FoundationEssentials
import Glibc
import AishBase

/// FILTER: a regular expression searched in a series name; text that is not a valid
/// expression is matched as plain text.
package struct SeriesFilter {
    private let regex: PythonRegex?
    private let text: String?

    package init(_ text: String?) {
        self.text = text
        regex = text.flatMap { try? PythonRegex($0) }
    }

    package func matches(_ names: String...) -> Bool {
        guard let text else { return true }
        for n in names {
            if let regex {
                if regex.matches(n) { return true }
            } else if n.contains(text) {
                return true
            }
        }
        return false
    }
}
