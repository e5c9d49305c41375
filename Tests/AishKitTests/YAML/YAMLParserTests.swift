import Testing
@testable import AishBase
@testable import AishYAML

@Suite struct YAMLParserTests {
    func parse(_ text: String) throws -> YAMLDocument { try YAMLParser.parse(text, file: "t.yaml") }

    /// The single error a malformed input gives, as printed.
    func failure(_ text: String, limits: YAMLLimits = YAMLLimits()) -> String? {
        do {
            _ = try YAMLParser.parse(text, file: "t.yaml", limits: limits)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func nodesKeepOneBasedPositionsAndOrder() throws {
        let root = try #require(try parse("# c\nproviders:\n  b: 1\n  a:\n    - x\n    - 'y'\n").root)
        #expect(root.location == SourceLocation(file: "t.yaml", line: 2, column: 1))
        let providers = try #require(root["providers"])
        #expect(providers.pairs?.map { $0.key.scalar } == ["b", "a"])
        #expect(providers.pairs?[1].key.location == SourceLocation(file: "t.yaml", line: 4, column: 3))
        let items = try #require(providers["a"]?.items)
        #expect(items[1].location == SourceLocation(file: "t.yaml", line: 6, column: 7))
        guard case .scalar("y", .singleQuoted) = items[1].content else { Issue.record("style lost"); return }
    }

    @Test func plainScalarsResolveCoreTypesQuotedStayStrings() throws {
        let root = try #require(try parse("a: null\nb: ~\nc:\nd: true\ne: 0x1F\nf: 1_000\ng: -2.5e3\nh: '42'\ni: .inf\nj: no\nk: 8B\n").root)
        #expect(root["a"]?.isNull == true)
        #expect(root["b"]?.isNull == true)
        #expect(root["c"]?.isNull == true)
        #expect(root["d"]?.boolValue == true)
        #expect(root["e"]?.intValue == 31)
        #expect(root["f"]?.intValue == 1000)
        #expect(root["g"]?.doubleValue == -2500)
        #expect(root["h"]?.intValue == nil)
        #expect(root["h"]?.scalar == "42")
        #expect(root["i"]?.doubleValue == .infinity)
        #expect(root["j"]?.boolValue == false)
        #expect(root["k"]?.intValue == nil && root["k"]?.doubleValue == nil)
        #expect(root.jsonValue.serialized() == #"{"a":null,"b":null,"c":null,"d":true,"e":31,"f":1000,"g":-2500,"h":"42","i":"\#(".inf")","j":"no","k":"8B"}"#)
    }

    @Test func tagsAreKept() throws {
        let root = try #require(try parse("a: !!str 12\nb: !custom x\n").root)
        #expect(root["a"]?.tag == "tag:yaml.org,2002:str")
        #expect(root["a"]?.intValue == nil)
        #expect(root["b"]?.tag == "!custom")
    }

    @Test func aliasesAndMergeKeysResolve() throws {
        let root = try #require(try parse("base: &b\n  type: ollama\n  port: 1\nx:\n  <<: *b\n  port: 2\ny: *b\n").root)
        #expect(root["x"]?.pairs?.map { $0.key.scalar } == ["port", "type"])
        #expect(root["x"]?["port"]?.intValue == 2)
        #expect(root["x"]?["type"]?.scalar == "ollama")
        #expect(root["y"]?["port"]?.intValue == 1)
    }

    @Test func emptyInputHasNoRoot() throws {
        #expect(try parse("").root == nil)
        #expect(try parse("# only a comment\n").root == nil)
    }

    @Test func tabIndentationIsOneClearError() {
        #expect(failure("providers:\n\ttype: ollama\n") == "t.yaml:2:1: error: tab character in indentation (YAML indents with spaces only)")
        #expect(failure("a:\n  b: 1\n  \tc: 2\n") == "t.yaml:3:3: error: tab character in indentation (YAML indents with spaces only)")
    }

    @Test func tabInsideAValueIsFine() throws {
        #expect(try parse("a: \"x\\ty\"\nb: 'p\tq'\n").root?["b"]?.scalar == "p\tq")
    }

    @Test func unterminatedQuotePointsAtTheOpeningQuote() {
        #expect(failure("a: 1\nb: \"abc\nc: 2\n") == "t.yaml:2:4: error: unterminated quoted string (the quote opened here is never closed)")
        #expect(failure("b: 'abc\n") == "t.yaml:1:4: error: unterminated quoted string (the quote opened here is never closed)")
    }

    @Test func badIndentationNamesTheBlock() {
        #expect(failure("a:\n  b: 1\n c: 2\n")
            == "t.yaml:3:2: error: bad indentation or structure: did not find expected key (while parsing a block mapping that started at line 1, column 1)")
        #expect(failure("a: 1\n  b: 2\n") == "t.yaml:2:4: error: bad indentation or structure: mapping values are not allowed in this context")
        #expect(failure("a: [1, 2\n")
            == "t.yaml:2:1: error: did not find expected ',' or ']' (while parsing a flow sequence that started at line 1, column 4)")
    }

    @Test func duplicateKeysAreReportedWithBothPositions() throws {
        let doc = try parse("providers:\n  a:\n    type: x\n    type: y\n")
        #expect(doc.problems.map(\.description) == ["t.yaml:4:5: error: duplicate key 'type' (first defined at t.yaml:3:5)"])
    }

    @Test func aliasBombStopsAtTheNodeLimit() {
        let bomb = """
            a: &a ["x","x","x","x","x","x","x","x","x"]
            b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
            c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
            d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
            e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
            f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
            g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
            h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
            """
        #expect(failure(bomb) == "t.yaml:6:8: error: alias '*e' expands the document past 100000 nodes (alias bomb?)")
    }

    @Test func recursiveAliasIsOneError() {
        #expect(failure("a: &x [1, *x]\n") == "t.yaml:1:11: error: recursive alias '*x' refers to a node that contains it")
        #expect(failure("a: &m\n  self: *m\n") == "t.yaml:2:9: error: recursive alias '*m' refers to a node that contains it")
    }

    @Test func unknownAliasIsAnError() {
        #expect(failure("a: *nope\n") == "t.yaml:1:4: error: unknown alias '*nope' (no anchor '&nope' before it)")
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(failure(deep) == "t.yaml:1:65: error: nesting deeper than 64 levels")
        #expect(failure("a: [[1]]", limits: YAMLLimits(maxDepth: 2, maxNodes: 10)) == "t.yaml:1:5: error: nesting deeper than 2 levels")
    }

    @Test func secondDocumentIsRejected() {
        #expect(failure("a: 1\n---\nb: 2\n") == "t.yaml:2:1: error: more than one YAML document in this file (aish reads one)")
    }

    @Test func invalidUTF8IsReported() {
        let bytes: [UInt8] = Array("a: ".utf8) + [0xFF, 0xFE] + Array("\n".utf8)
        #expect(throws: YAMLError.self) { try YAMLParser.parse(bytes, file: "t.yaml") }
    }
}

@Suite struct YAMLScaleTests {
    /// A mapping with tens of thousands of keys (each duplicated) parses in linear time:
    /// duplicate detection must not compare every pair.
    @Test func hugeMappingWithDuplicatesDoesNotHang() throws {
        var text = ""
        for i in 0..<20_000 { text += "k\(i): 1\nk\(i): 2\n" }
        let doc = try YAMLParser.parse(text, file: "big.yaml")
        #expect(doc.root?.pairs?.count == 40_000)
        #expect(doc.problems.count == 20_000)
        #expect(doc.problems.first?.description == "big.yaml:2:1: error: duplicate key 'k0' (first defined at big.yaml:1:1)")
    }
}
