import AishBenchmarks
import Glibc

// Prints one JSON object for scripts/bench; all logic is in AishBenchmarks' InProcessBenchmarks.
let (output, code) = InProcessBenchmarks.run(arguments: Array(CommandLine.arguments.dropFirst()))
print(output)
exit(code)
