import AishBase

// A pure-Swift YAML node tree. Only YAMLParser.swift touches libyaml; everything above it
// works on these values, and every node keeps the position it was read from so that a
// decoding error can name file:line:col.

/// How a scalar was written. Only plain scalars resolve to null, booleans and numbers;
/// quoted and block scalars are always strings.
package enum YAMLScalarStyle: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}

package struct YAMLPair: Sendable {
    package var key: YAMLNode
    package var value: YAMLNode

    package init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }

}

/// Immutable once built; a class so that building and walking the tree copies one
/// reference per node instead of every field (aliases share their node).
package final class YAMLNode: Sendable {
    package enum Content: Sendable {
        case scalar(String, YAMLScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    package let content: Content
    /// Explicit tag (`!!str`, `!custom`), nil when the node was untagged.
    package let tag: String?
    package let location: SourceLocation

    package init(_ content: Content, tag: String? = nil, location: SourceLocation) {
        self.content = content
        self.tag = tag
        self.location = location
    }

    // MARK: Shape

    package var scalar: String? { if case let .scalar(s, _) = content { return s }; return nil }
    package var items: [YAMLNode]? { if case let .sequence(n) = content { return n }; return nil }
    package var pairs: [YAMLPair]? { if case let .mapping(p) = content { return p }; return nil }

    package var isPlainScalar: Bool { if case .scalar(_, .plain) = content { return tag == nil }; return false }

    /// The value for a scalar key in a mapping (first match).
    package subscript(key: String) -> YAMLNode? {
        guard case let .mapping(pairs) = content else { return nil }
        for p in pairs where p.key.scalar == key { return p.value }
        return nil
    }

    /// The pair for a scalar key, so a finding can point at the key.
    package func pair(_ key: String) -> YAMLPair? {
        guard case let .mapping(pairs) = content else { return nil }
        return pairs.first(where: { $0.key.scalar == key })
    }

    /// "a mapping", "a list", "null", "'abc'": for type-mismatch messages.
    package var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case let .scalar(s, _):
            if isNull { return "null" }
            return "'\(s)'"
        }
    }

    // MARK: Core-schema resolution (YAML 1.2 core, plus the 1.1 booleans operators still write)

    package var isNull: Bool {
        if tag == "tag:yaml.org,2002:null" { return true }
        guard isPlainScalar, let s = scalar else { return false }
        switch s {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    package var boolValue: Bool? {
        guard case let .scalar(s, style) = content, (style == .plain && tag == nil) || tag == "tag:yaml.org,2002:bool" else { return nil }
        switch s {
        case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
        case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    package var intValue: Int? {
        guard case let .scalar(s, style) = content, (style == .plain && tag == nil) || tag == "tag:yaml.org,2002:int" else { return nil }
        return YAMLNode.parseInt(s)
    }

    package var doubleValue: Double? {
        guard case let .scalar(s, style) = content, (style == .plain && tag == nil) || tag == "tag:yaml.org,2002:float" else { return nil }
        if let i = YAMLNode.parseInt(s) { return Double(i) }
        return YAMLNode.parseFloat(s)
    }

    package static func parseInt(_ text: String) -> Int? {
        var s = Substring(text)
        guard let first = s.first else { return nil }
        var negative = false
        if first == "-" || first == "+" { negative = first == "-"; s = s.dropFirst() }
        guard !s.isEmpty else { return nil }
        var radix = 10
        if s.hasPrefix("0x") { radix = 16; s = s.dropFirst(2) } else if s.hasPrefix("0o") { radix = 8; s = s.dropFirst(2) }
        // Underscores are YAML 1.1 digit separators (1_000).
        let digits = s.contains("_") ? String(s.filter { $0 != "_" }) : String(s)
        guard !digits.isEmpty, let v = Int(digits, radix: radix) else { return nil }
        return negative ? -v : v
    }

    package static func parseFloat(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        // Require a digit so that words such as "infinity" or "nan" stay strings.
        guard text.utf8.contains(where: { $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2B || $0 == 0x2D || $0 == 0x65 || $0 == 0x45 || $0 == 0x5F })
        else { return nil }
        return Double(text.contains("_") ? String(text.filter { $0 != "_" }) : text)
    }

    /// The node as JSON (for `--json` and for metadata), resolving plain scalars.
    package var jsonValue: JSONValue {
        switch content {
        case .scalar(let s, _):
            if isNull { return .null }
            if let b = boolValue, s == "true" || s == "false" || s == "True" || s == "False" { return .bool(b) }
            if let i = intValue { return .int(i) }
            if let d = doubleValue, d.isFinite { return .double(d) }
            return .string(s)
        case let .sequence(items): return .array(items.map(\.jsonValue))
        case let .mapping(pairs): return .object(pairs.map { ($0.key.scalar ?? $0.key.jsonValue.serialized(), $0.value.jsonValue) })
        }
    }
}

/// A problem in YAML input, with the position it concerns.
package struct YAMLError: UserFacingError, Sendable, Equatable {
    package var exitCode: ExitCode { .failure }
    package var namesItsLocation: Bool { true }
    package var location: SourceLocation
    package var message: String
    package var description: String { "\(location): error: \(message)" }
}

/// What one parse produced: the root (nil for an empty file) and problems that did not
/// stop the parse (duplicate keys).
package struct YAMLDocument: Sendable {
    package var root: YAMLNode?
    package var problems: [YAMLError]
}

/// Bounds that keep hostile or broken input from exhausting memory or time.
package struct YAMLLimits: Sendable {
    package var maxDepth = 64
    /// Nodes after alias expansion: an alias counts as many nodes as the subtree it names.
    package var maxNodes = 100_000
}
