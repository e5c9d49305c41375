import Foundation
import Testing
@testable import AishBase
@testable import AishCommand

@Suite struct CommandReportTests {
    struct Sample: CommandReport {
        struct Item: Encodable, Sendable { var name: String; var ms: Double }
        var count: Int
        var latencyMs: Double?
        var items: [Item]
        var nan: Double
        enum CodingKeys: String, CodingKey { case count, latencyMs = "latency_ms", items, nan }
        static let fields = [ReportField("count", "n"), ReportField("latency_ms", "l", unit: "ms"),
                             ReportField("items", "i"), ReportField("nan", "x")]
        static let example = Sample(count: 1, latencyMs: 2, items: [], nan: 0)
        func renderText() -> String { "\(count) items" }
    }

    @Test func encoderKeepsDeclarationOrderAndDropsNilOptionals() throws {
        let v = try JSONValueEncoder.encode(Sample(count: 2, latencyMs: nil, items: [.init(name: "a", ms: 1.5)], nan: .nan))
        #expect(v.serialized() == #"{"count":2,"items":[{"name":"a","ms":1.5}],"nan":null}"#)
    }

    /// A `NilEncodesAsNull` type keeps every key, null where nil, for each kind of optional
    /// (the standard library has a separate nil path per type); an unmarked type inside it
    /// still leaves its nils out, and a marked row inside an unmarked type keeps them.
    @Test func nilEncodesAsNullOnlyInMarkedTypes() throws {
        struct Loose: Encodable { var a: Int?; var b: String? }
        struct Row: NilEncodesAsNull { var s: String?; var i: Int?; var d: Double?; var b: Bool?; var u: UInt64?; var j: JSONValue? }
        struct Marked: NilEncodesAsNull { var first: Int; var row: Row?; var loose: Loose; var rows: [Row] }
        struct Outer: Encodable { var gone: Int?; var row: Row }
        let empty = Row(s: nil, i: nil, d: nil, b: nil, u: nil, j: nil)
        let nulls = #"{"s":null,"i":null,"d":null,"b":null,"u":null,"j":null}"#
        #expect(try JSONValueEncoder.encode(Marked(first: 1, row: nil, loose: Loose(a: nil, b: "x"), rows: [empty])).serialized()
                == #"{"first":1,"row":null,"loose":{"b":"x"},"rows":["# + nulls + "]}")
        #expect(try JSONValueEncoder.encode(Outer(gone: nil, row: empty)).serialized() == #"{"row":"# + nulls + "}")
        let full = Row(s: "t", i: 2, d: 1.5, b: false, u: 7, j: .int(3))
        #expect(try JSONValueEncoder.encode(full).serialized() == #"{"s":"t","i":2,"d":1.5,"b":false,"u":7,"j":3}"#)
    }

    @Test func resultFieldsAndJSONComeFromTheReport() throws {
        let r = CommandResult(report: Sample(count: 3, latencyMs: 12.5, items: [], nan: 1))
        #expect(r.status == .ok)
        #expect(r.text == "3 items")
        #expect(r.field("latency_ms") == .double(12.5))
        #expect(r.jsonForm.serialized() == #"{"status":"ok","count":3,"latency_ms":12.5,"items":[],"nan":1}"#)
        // expect X and expect json .X read the same object.
        for (k, v) in r.fields { #expect(r.jsonForm[k] == v) }
    }

    /// Help lists each report's fields; they must be exactly the keys the type encodes.
    @Test func documentedFieldsMatchEncodedKeysForEveryCommand() throws {
        var checked = 0
        for spec in CommandRegistry.standard.commands {
            for shape in [spec.report].compactMap({ $0 }) + spec.otherReports {
                let keys = try shape.encodedKeys()
                #expect(shape.fields.map(\.name) == keys, "\(spec.name): help lists \(shape.fields.map(\.name)), \(shape.typeName) encodes \(keys)")
                #expect(spec.helpText.contains(shape.fieldLines.joined(separator: "\n")), "\(spec.name): help does not list the fields of \(shape.typeName)")
                checked += 1
            }
            if !spec.otherReports.isEmpty { #expect(spec.report != nil, "\(spec.name) has other reports but no main one") }
        }
        #expect(checked >= 1)
    }

    /// Every command returns a typed report, except `exit` (it ends the session) and
    /// `source` (it leaves the sourced script's last result).
    @Test func everyCommandDeclaresItsReport() {
        let without = CommandRegistry.standard.commands.filter { $0.report == nil }.map(\.name)
        #expect(Set(without) == ["exit", "source"], "commands without a report: \(without)")
    }

    /// The README's command reference lists, for each command that returns a report, exactly
    /// the fields its report type encodes ("Fields: `a`, `b`" in the command's table row), so
    /// README, help and --json cannot drift apart.
    @Test func readmeListsEachReportsFields() throws {
        let readme = try String(contentsOfFile: try TestPaths.existing("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n")
        for spec in CommandRegistry.standard.commands {
            guard let shape = spec.report else { continue }
            let row = rows.first { $0.hasPrefix("| `\(spec.name)") }
            let line = try #require(row, "README has no row for \(spec.name)")
            let listed = try #require(line.range(of: "Fields: "), "README's row for \(spec.name) lists no fields")
            let names = line[listed.upperBound...].split(separator: "|")[0].split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
            #expect(names == shape.fields.map(\.name), "README lists \(names) for \(spec.name); \(shape.typeName) has \(shape.fields.map(\.name))")
            // Another form either has its own row ("| `route --all`"), listing exactly its
            // fields, or the command's row names each of its fields.
            for other in spec.otherReports {
                let mode = try #require(other.mode, "\(spec.name): \(other.typeName) has no mode")
                if let own = rows.first(where: { $0.hasPrefix("| `\(mode)") }) {
                    let at = try #require(own.range(of: "Fields: "), "README's row for \(mode) lists no fields")
                    let names = own[at.upperBound...].split(separator: "|")[0].split(separator: ",")
                        .map { $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`")) }
                    #expect(names == other.fields.map(\.name), "README lists \(names) for \(mode); \(other.typeName) has \(other.fields.map(\.name))")
                } else {
                    for field in other.fields {
                        #expect(line.contains("`\(field.name)`"), "README's row for \(spec.name) does not name `\(field.name)` of \(mode)")
                    }
                }
            }
        }
    }
}
