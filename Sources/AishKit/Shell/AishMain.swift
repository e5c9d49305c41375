/// Entry point used by the thin `aish` executable. Returns the process exit code.
public enum AishMain {
    public static func run(arguments: [String]) -> Int32 {
        0
    }
}
