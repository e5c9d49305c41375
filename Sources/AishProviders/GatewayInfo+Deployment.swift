import AishBase
import AishCommand
import AishConfig

extension GatewayInfo {
    /// `deployment` named: the provider whose base URL is the api_base the gateway used, else
    /// the model group, else the deployment id.
    package func resolvingDeployment(_ providers: [ProviderConfig]) -> GatewayInfo {
        var g = self
        g.deployment = apiBase.flatMap { base in
            let key = Self.endpointKey(base)
            return providers.first(where: { Self.endpointKey($0.baseURL) == key })?.name
        } ?? modelGroup ?? modelID
        return g
    }

    /// scheme://host:port/path without a trailing / or /v1, localhost as 127.0.0.1.
    package static func endpointKey(_ url: String) -> String {
        var root = ProviderEndpoints(baseURL: url).root.lowercased()
        root = root.replacingAll("://localhost", with: "://127.0.0.1")
        return root
    }
}
