import Testing
@testable import AishBase

/// Routing patterns follow Python `re` (LiteLLM reads the same files). The expected matches
/// below were produced by CPython 3.11's `re.search` on the same names (see the comment at
/// `pythonTable`); they cover where Python's syntax differs from ICU's and Swift Regex's.
@Suite struct PythonRegexTests {
    static let names: [String] = ["a", "a\u{a}", "abc", "a\u{a}c", "]", "x", "bx", "]x", ":", "b", "&", "aa", "A", "aab", "a{x}", "llama", "my coder x", "mycoder", "llama3:8b", "70b\u{a}", "ab", "Qwen/Qwen2.5-Coder-7B", "mistral-7b", "\u{e9}", "e\u{301}", "\u{8}", "\u{b}", "m.gguf", "a\u{a}b", "x$", "aaab", "|", "~", "\u{d}", "x-1234b"]

    // python3 -c 'import re; print([i for i, n in enumerate(names) if re.search(p, n)])'
    static let pythonTable: [(String, [Int])] = [
        ("a$", [0, 1, 11, 15]),
        ("a\\Z", [0, 11, 15]),
        ("^a.c$", [2]),
        ("(?s)^a.c$", [2, 3]),
        ("[]a]", [0, 1, 2, 3, 4, 7, 11, 13, 14, 15, 18, 20, 22, 28, 30]),
        ("[^]a]x", [6, 14, 16]),
        ("[[:alpha:]]", []),
        ("[a-z&&b]", [0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24, 27, 28, 29, 30, 34]),
        ("(?P<x>a)(?P=x)", [11, 13, 30]),
        ("(a)\\1", [11, 13, 30]),
        ("\\x41", [12]),
        ("\\101", [12]),
        ("\\0", []),
        ("a{,2}b", [2, 6, 9, 13, 18, 19, 20, 22, 28, 30, 34]),
        ("a{x}", [14]),
        ("(?i)LLAMA", [15, 18]),
        ("\\bcoder\\b", [16]),
        ("\\d+b$", [18, 19, 22, 34]),
        ("(?x) a b # c", [2, 13, 20, 30]),
        ("(?u)^a", [0, 1, 2, 3, 11, 13, 14, 20, 28, 30]),
        ("(?i:A)b", [2, 13, 20, 30]),
        ("[\\]x]", [4, 5, 6, 7, 14, 16, 29, 34]),
        ("^Qwen/Qwen2\\.5-Coder.*", [21]),
        ("\\w+-\\d{1,3}b$", [22]),
        ("\u{e9}", [23]),
        ("^.$", [0, 1, 4, 5, 8, 9, 10, 12, 23, 25, 26, 31, 32, 33]),
        ("a|", [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34]),
        ("(?#note)x", [5, 6, 7, 14, 16, 29, 34]),
        ("[\\b]", [25]),
        ("\\v", [26]),
        ("\\.gguf$", [27]),
        ("(?m)^b$", [9, 28]),
        ("x\\$", [29]),
        ("(?>a+)b", [2, 13, 20, 30]),
        ("a++b", [2, 13, 20, 30]),
        ("[|~]", [31, 32]),
    ]

    @Test func matchesWhatPythonsReSearchMatches() throws {
        for (pattern, expected) in Self.pythonTable {
            let regex = try PythonRegex(pattern)
            let got = Self.names.indices.filter { regex.matches(Self.names[$0]) }
            #expect(got == expected, "pattern \(pattern)")
        }
    }

    @Test func constructsPythonHasButAishDoesNotAreReportedAsUnsupported() {
        for (pattern, what) in [("(?<=a)b", "lookbehind '(?<='"), ("(?<!a)b", "lookbehind '(?<!'"),
                                ("(a)?(?(1)b|c)", "a conditional group '(?('"), ("(?a)\\w", "the ASCII flag '(?a)'")] {
            #expect(throws: PythonRegex.Failure.self) { try PythonRegex(pattern) }
            do {
                _ = try PythonRegex(pattern)
            } catch {
                #expect(error.kind == .unsupported, "\(pattern)")
                #expect(error.message.hasPrefix(what), "\(pattern): \(error.message)")
            }
        }
    }

    @Test func patternsPythonRejectsAreInvalid() {
        for pattern in ["^bad(", "a{1,2}{3}", "\\p{L}", "\\Qa\\E", "(?<name>x)", "[a", "\\x4", "a\\", "(?L)x"] {
            do {
                _ = try PythonRegex(pattern)
                Issue.record("\(pattern) compiled")
            } catch {
                #expect(error.kind == .invalid, "\(pattern)")
            }
        }
    }
}
