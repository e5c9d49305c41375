import FoundationEssentials
import Glibc
import AishBase
import AishCommand

/// Sampling options of a chat request, read from script variables (`set temperature 0.2`,
/// `--var max_tokens=64`). `set` checks them already; `--var` and the environment do not,
/// so they are checked again here with the same words.
package struct ChatOptions: Sendable, Hashable {
    package var temperature: Double?
    package var maxTokens: Int?
    package var topP: Double?
    package var seed: Int?

    /// How much of a reply is kept (memory, conversation, log); all of it is shown.
    package var maxReplyBytes = BoundedReply.defaultLimit

    package init(temperature: Double? = nil, maxTokens: Int? = nil, topP: Double? = nil, seed: Int? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.topP = topP
        self.seed = seed
    }

    package static let names = ["temperature", "max_tokens", "top_p", "seed", BoundedReply.variable]

    /// The options from `variables`, each replaced by `overrides` (`chat -o NAME VALUE`, in
    /// pairs, for one request only) where given. Both are checked as `set` checks them.
    /// `allowed`: the names `-o` takes (compare has no use for max_reply_bytes).
    package static func from(variables: [String: String], overrides: [String] = [], command: String = "chat",
                     allowed: [String] = names) throws -> ChatOptions {
        var given: [String: String] = [:]
        var pairs = overrides[...]
        while let name = pairs.popFirst(), let value = pairs.popFirst() {
            guard allowed.contains(name) else {
                var message = "\(command): -o: unknown option '\(name)'"
                if let s = Suggest.closest(to: name, among: allowed) { message += " (did you mean '\(s)'?)" }
                throw UsageError(message: message + "; the options are " + CommandSpec.alternatives(allowed))
            }
            given[name] = value
        }
        func check(_ name: String) throws -> String? {
            let perTurn = given[name]
            guard let raw = perTurn ?? variables[name] else { return nil }
            let value = raw.trimming(.whitespaces)
            if let option = ChatOptions.variables.first(where: { $0.name == name }), !option.check(value) {
                if perTurn != nil { throw UsageError(message: "\(command): -o \(name) must be \(option.expected), got '\(raw)'") }
                throw UsageError(message: "\(command): \(name) must be \(option.expected), got '\(raw)' (change it with: set \(name) VALUE)")
            }
            return value
        }
        var o = ChatOptions()
        o.temperature = try check("temperature").flatMap(Double.init)
        o.maxTokens = try check("max_tokens").flatMap { Int($0) }
        o.topP = try check("top_p").flatMap(Double.init)
        o.seed = try check("seed").flatMap { Int($0) }
        if let raw = try check(BoundedReply.variable), let limit = BoundedReply.parseLimit(raw) { o.maxReplyBytes = limit }
        return o
    }
}

extension ChatOptions {
    /// Chat options stored as variables; their values are checked when set.
    package static let variables: [(name: String, check: @Sendable (String) -> Bool, expected: String)] = [
        ("temperature", { Double($0).map { $0 >= 0 && $0 <= 2 } ?? false }, "a number from 0 to 2"),
        ("top_p", { Double($0).map { $0 > 0 && $0 <= 1 } ?? false }, "a number above 0, at most 1"),
        ("max_tokens", { Int($0).map { $0 > 0 } ?? false }, "a whole number above 0"),
        ("seed", { Int($0) != nil }, "a whole number"),
        (BoundedReply.variable, { BoundedReply.parseLimit($0) != nil }, "a size of at least 1 KiB, such as 1048576, 512KiB or 4MiB"),
    ]
}
