import FoundationEssentials
import Glibc
import AishBase

/// Which systemd instance manages a unit.
package enum SystemdScope: String, Sendable {
    case user, system
}

/// A systemd unit as named in the config: `service: ollama.service` in ports.yaml, or a
/// provider's `service` / `service_file` (a path, of which the basename is the unit).
package struct UnitReference: Equatable, Sendable {
    package var unit: String
    /// Known from the path of a `service_file`; nil means the default (user).
    package var scope: SystemdScope?

    private static let systemDirectories = ["/etc/systemd/system/", "/lib/systemd/system/", "/usr/lib/systemd/system/",
                                            "/run/systemd/system/", "/usr/local/lib/systemd/system/"]

    /// nil for an empty value or YAML `null`.
    package init?(configValue raw: String?) {
        guard let raw = raw?.trimming(.whitespaces), !raw.isEmpty, raw != "null", raw != "~" else {
            return nil
        }
        // Only a path-looking value is a unit file; anything else is the unit name as written.
        let isPath = ["/", "~/", "./", "../"].contains(where: { raw.hasPrefix($0) })
        guard isPath else {
            unit = raw
            scope = nil
            return
        }
        let base = PathText.lastComponent(raw)
        guard !base.isEmpty else { return nil }
        unit = base
        if UnitReference.systemDirectories.contains(where: { raw.hasPrefix($0) }) {
            scope = .system
        } else if raw.contains("/systemd/user/") {
            scope = .user
        } else {
            scope = nil
        }
    }

    package init(unit: String, scope: SystemdScope? = nil) {
        self.unit = unit
        self.scope = scope
    }
}
