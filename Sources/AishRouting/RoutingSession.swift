import FoundationEssentials
import Glibc
import AishBase
import AishCommand
import AishConfig

/// The router of the session: its runtime state (`ctx.state(RoutingSession.self)`) and a
/// `Router` compiled for the loaded config, rebuilt when the config changes.
package final class RoutingSession {
    package let state: RouterState
    private var compiled: (config: AishConfig, router: Router)?

    package init(state: RouterState = RouterState()) { self.state = state }

    /// The router for `config`, compiled once per distinct config: the one compiled last is
    /// kept with the config it came from and used again only for an equal config (every
    /// field counts, timeouts and types included, so an edit in a running session takes
    /// effect on the next request).
    package func router(for config: AishConfig) -> Router {
        if let c = compiled, c.config == config { return c.router }
        let r = Router(config: config)
        compiled = (config, r)
        return r
    }
}

extension ShellContext {
    package var routing: RoutingSession { state(RoutingSession.self) { RoutingSession() } }
}
