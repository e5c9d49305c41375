import FoundationEssentials
import Glibc

/// The user's home directory when HOME is unset: the password database's entry, as
/// Foundation's NSHomeDirectory() gave it.
package func homeDirectory() -> String {
    if let home = getenv("HOME"), home.pointee != 0 { return String(cString: home) }
    if let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir { return String(cString: dir) }
    return "/"
}

/// What went wrong with a file operation, for an error message: the system's text for the
/// underlying errno ("No such file or directory") when there is one.
package func describeFileError(_ error: Error) -> String {
    if let cocoa = error as? CocoaError {
        if let posix = cocoa.userInfo["NSUnderlyingError"] as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        if let path = cocoa.userInfo["NSFilePath"] as? String { return "file error \(cocoa.code.rawValue) on \(path)" }
        return "file error \(cocoa.code.rawValue)"
    }
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
    return "\(error)"
}

/// The directory for scratch files, with a trailing "/", as Foundation's NSTemporaryDirectory()
/// gave it: TMPDIR when set, else /tmp/.
package func temporaryDirectory() -> String {
    guard let dir = getenv("TMPDIR"), dir.pointee != 0 else { return "/tmp/" }
    let path = String(cString: dir)
    return path.hasSuffix("/") ? path : path + "/"
}
