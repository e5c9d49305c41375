import Foundation

/// How `compare` and `bench` turn a model name into requests, the way `chat` does.
enum MetricsRouting {
    /// The requester for `model`: its exact match in model-mappings.yaml, else the first
    /// active provider that declares the model, else `provider/model`.
    static func requester(for model: String, ctx: ShellContext) throws -> ModelRequester {
        let config = try ctx.config()
        func direct(_ p: ProviderConfig, _ backendModel: String) -> ModelRequester {
            ModelRequester.direct(provider: p, backendModel: backendModel, environment: ctx.environment)
        }
        if let m = config.mappings.exactMatches.first(where: { $0.alias == model }), let p = config.provider(named: m.provider) {
            return direct(p, m.backendModel ?? model)
        }
        if let p = config.providers.providers.first(where: { $0.isActive && $0.models.contains(where: { $0.name == model }) }) {
            return direct(p, model)
        }
        if let slash = model.firstIndex(of: "/"), let p = config.provider(named: String(model[..<slash])) {
            return direct(p, String(model[model.index(after: slash)...]))
        }
        var message = "no route for model '\(model)'"
        if let s = Suggest.closest(to: model, among: modelNames(ctx)) { message += " — did you mean '\(s)'?" }
        throw CommandFailure(message)
    }

    static func modelNames(_ ctx: ShellContext) -> [String] {
        guard let config = try? ctx.config() else { return [] }
        var names = config.mappings.exactMatches.map(\.alias)
        for p in config.providers.providers where p.isActive { names += p.models.map(\.name) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
