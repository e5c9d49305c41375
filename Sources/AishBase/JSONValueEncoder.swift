/// Encodes any `Encodable` straight into a `JSONValue`, keeping keys in the order the type
/// encodes them (declaration order for synthesized conformances), so a report's `--json`
/// form, its `expect` fields and its golden files all read in the same stable order.
/// Optional properties that are nil are left out, as synthesized `encodeIfPresent` does,
/// except in a type marked `NilEncodesAsNull`; non-finite doubles become null.
package enum JSONValueEncoder {
    package static func encode(_ value: some Encodable) throws -> JSONValue {
        let box = EncodedBox()
        try value.encode(to: ValueEncoder(box: box, codingPath: [], nilAsNull: value is any NilEncodesAsNull))
        return box.resolved
    }
}

/// A type whose nil properties encode as null instead of being left out, with synthesized
/// Encodable: a report or table row whose every field is present, null where it does not
/// apply (README: "null, not missing").
package protocol NilEncodesAsNull: Encodable {}

/// A reference cell that nested containers write back into when they are filled later.
private final class EncodedBox {
    var value: JSONValue = .null
    var items: [EncodedBox]? = nil
    var keyed: [(String, EncodedBox)]? = nil

    /// The finished value: containers are resolved recursively.
    var resolved: JSONValue {
        if let keyed { return .object(keyed.map { ($0.0, $0.1.resolved) }) }
        if let items { return .array(items.map(\.resolved)) }
        return value
    }
}

private struct ValueEncoder: Encoder {
    let box: EncodedBox
    var codingPath: [any CodingKey]
    /// The value being encoded is `NilEncodesAsNull`.
    var nilAsNull = false
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if box.keyed == nil { box.keyed = [] }
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath, nilAsNull: nilAsNull))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if box.items == nil { box.items = [] }
        return UnkeyedContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(box: box, codingPath: codingPath)
    }
}

/// Turns a leaf value into JSON; anything else is encoded through a nested encoder.
private func encodeValue(_ value: some Encodable, into box: EncodedBox, codingPath: [any CodingKey]) throws {
    switch value {
    case let v as String: box.value = .string(v)
    case let v as Bool: box.value = .bool(v)
    case let v as Int: box.value = .int(v)
    case let v as Int64: box.value = .int(Int(v))
    case let v as Int32: box.value = .int(Int(v))
    case let v as UInt: box.value = .int(Int(clamping: v))
    case let v as UInt64: box.value = .int(Int(clamping: v))
    case let v as Double: box.value = v.isFinite ? .double(v) : .null
    case let v as Float: box.value = v.isFinite ? .double(Double(v)) : .null
    case let v as JSONValue: box.value = v
    default: try value.encode(to: ValueEncoder(box: box, codingPath: codingPath, nilAsNull: value is any NilEncodesAsNull))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: EncodedBox
    var codingPath: [any CodingKey]
    let nilAsNull: Bool

    private func slot(_ key: Key) -> EncodedBox {
        let child = EncodedBox()
        if let i = box.keyed!.firstIndex(where: { $0.0 == key.stringValue }) {
            box.keyed![i].1 = child
        } else {
            box.keyed!.append((key.stringValue, child))
        }
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { slot(key).value = .null }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encodeValue(value, into: slot(key), codingPath: codingPath + [key])
    }
    // Synthesized conformances call encodeIfPresent for optionals: nil leaves the key out,
    // or is null in a `NilEncodesAsNull` type.
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        try encodeOptional(value, forKey: key)
    }
    private mutating func encodeOptional<T: Encodable>(_ value: T?, forKey key: Key) throws {
        guard let value else {
            if nilAsNull { try encodeNil(forKey: key) }
            return
        }
        try encode(value, forKey: key)
    }
    // The standard library's per-type defaults leave nil out whatever the type; one path for all.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { try encodeOptional(value, forKey: key) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        ValueEncoder(box: slot(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        ValueEncoder(box: slot(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(box: box, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { ValueEncoder(box: slot(key), codingPath: codingPath + [key]) }
}

private struct IndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ i: Int) { stringValue = String(i); intValue = i }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.init(intValue) }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let box: EncodedBox
    var codingPath: [any CodingKey]
    var count: Int { box.items!.count }

    private func next() -> EncodedBox {
        let child = EncodedBox()
        box.items!.append(child)
        return child
    }

    mutating func encodeNil() throws { next().value = .null }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let key = IndexKey(count)
        try encodeValue(value, into: next(), codingPath: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = IndexKey(count)
        return ValueEncoder(box: next(), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = IndexKey(count)
        return ValueEncoder(box: next(), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { ValueEncoder(box: next(), codingPath: codingPath) }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let box: EncodedBox
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws { box.value = .null }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, into: box, codingPath: codingPath) }
}

/// JSONValue is itself Encodable, so a report may carry free-form JSON (e.g. a parsed
/// server answer) next to its typed fields.
extension JSONValue: Encodable {
    package func encode(to encoder: any Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .bool(b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case let .int(i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case let .double(d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case let .string(s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case let .array(items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case let .object(pairs):
            var c = encoder.container(keyedBy: DynamicKey.self)
            for (k, v) in pairs { try c.encode(v, forKey: DynamicKey(k)) }
        }
    }
}

/// A coding key made from any string (for free-form objects).
package struct DynamicKey: CodingKey {
    package var stringValue: String
    package var intValue: Int? { nil }
    package init(_ s: String) { stringValue = s }
    package init?(stringValue: String) { self.stringValue = stringValue }
    package init?(intValue: Int) { nil }
}
