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

    static func from(variables: [String: String]) throws -> ChatOptions {
        func check(_ name: String) throws -> String? {
            guard let raw = variables[name] else { return nil }
            let value = raw.trimming(.whitespaces)
            if let option = BuiltinCommands.chatOptions.first(where: { $0.name == name }), !option.check(value) {
                throw UsageError(message: "chat: \(name) must be \(option.expected), got '\(raw)' (change it with: set \(name) VALUE)")
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
