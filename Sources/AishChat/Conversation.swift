import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishProviders

/// The session's conversation (`ctx.state(Conversation.self)`): the model chosen with
/// `use`, the system prompt, and the turns so far, sent again with every request.
package final class Conversation {
    package private(set) var id = UUID().uuidString
    package var model: String?
    package var system: String?
    package private(set) var turns: [ChatMessage] = []
    /// The system prompt last written to the log's messages for this conversation.
    package var loggedSystem: String?

    /// The messages of a request that adds `prompt`; `systemForTurn` (`chat -s`) stands in
    /// for the conversation's system prompt in this request only.
    package func messages(adding prompt: String, systemForTurn: String? = nil) -> [ChatMessage] {
        var out: [ChatMessage] = []
        out.reserveCapacity(turns.count + 2)
        if let system = systemForTurn ?? system, !system.isEmpty { out.append(ChatMessage(role: "system", content: system)) }
        out += turns
        out.append(ChatMessage(role: "user", content: prompt))
        return out
    }

    package func append(user prompt: String, assistant reply: String) {
        turns.append(ChatMessage(role: "user", content: prompt))
        turns.append(ChatMessage(role: "assistant", content: reply))
    }

    /// A new conversation: no turns, a new id. The model and the system prompt stay.
    package func reset() {
        turns.removeAll()
        loggedSystem = nil
        id = UUID().uuidString
    }
}

extension ShellContext {
    package var conversation: Conversation { state(Conversation.self) { Conversation() } }
}
