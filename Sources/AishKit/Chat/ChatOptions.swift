import FoundationEssentials
import Glibc

/// Sampling options of a chat request, read from script variables (`set temperature 0.2`,
/// `--var max_tokens=64`). `set` checks them already; `--var` and the environment do not,
/// so they are checked again here with the same words.
struct ChatOptions: Sendable, Equatable {
    var temperature: Double?
    var maxTokens: Int?
    var topP: Double?
    var seed: Int?
    /// How much of a reply is kept (memory, conversation, log); all of it is shown.
    var maxReplyBytes = BoundedReply.defaultLimit

    static let names = ["temperature", "max_tokens", "top_p", "seed", BoundedReply.variable]

    /// The options from `variables`, each replaced by `overrides` (`chat -o NAME VALUE`, in
    /// pairs, for one request only) where given. Both are checked as `set` checks them.
    /// `allowed`: the names `-o` takes (compare has no use for max_reply_bytes).
    static func from(variables: [String: String], overrides: [String] = [], command: String = "chat",
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
            if let option = BuiltinCommands.chatOptions.first(where: { $0.name == name }), !option.check(value) {
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
