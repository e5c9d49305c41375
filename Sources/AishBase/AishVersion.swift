/// The release this build is, for `--version`, the log's sessions and reports.
package enum AishVersion {
    package static let current = "0.1.0"
}
