import AishBenchmarks
import Glibc

// Runs the parsers' fuzz targets for a time budget (scripts/fuzz); the logic is AishBenchmarks' Fuzzing.
let (report, code) = Fuzzing.run(arguments: Array(CommandLine.arguments.dropFirst()))
if code != 1 { print(report) }
exit(code)
