// swift-tools-version: 6.1
import PackageDescription

// aish is built in layers, each target depending only on targets above it in this list; the
// package graph test (Tests/AishKitTests/Package) fails on an arrow that runs the other way.
let settings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "aish",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "aish", targets: ["aish"]),
    ],
    dependencies: [],
    targets: [
        // System C libraries (Debian -dev packages). Each wrapper lives in its module's shim.h.
        .systemLibrary(name: "CEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // libcurl: headers only. It is opened on first use (Sources/CCurl/shim.h), so no pkg-config,
        // whose `-lcurl` would make every start-up load it and the ~40 libraries it needs.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The base: errors, JSON, time, text, terminal output, concurrency (one lock, one RNG), secrets masking.
        .target(name: "AishBase", dependencies: [], swiftSettings: settings),
        // The command model every command is declared in: specs, options, reports, results, the shell context.
        .target(name: "AishCommand", dependencies: ["AishBase"], swiftSettings: settings),
        // The owners of the C libraries, one target each.
        .target(name: "AishHTTP", dependencies: ["CCurl", "AishBase"], swiftSettings: settings),
        .target(name: "AishYAML", dependencies: ["CYAML", "AishBase"], swiftSettings: settings),
        .target(name: "AishSQLite", dependencies: ["CSQLite", "AishBase"], swiftSettings: settings),
        .target(name: "AishLineEditor", dependencies: ["CEdit", "AishBase"], swiftSettings: settings),
        // The configuration: the YAML files, their model, validation, the generated LiteLLM config.
        .target(name: "AishConfig", dependencies: ["AishBase", "AishCommand", "AishYAML"], swiftSettings: settings),
        // The session log (SQLite) and the providers' clients (OpenAI-compatible and Ollama wire formats).
        .target(name: "AishSessionLog", dependencies: ["AishBase", "AishCommand", "AishSQLite"], swiftSettings: settings),
        .target(name: "AishProviders", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig"], swiftSettings: settings),
        // The gateway's live state (its Redis, /health, /model/info).
        .target(name: "AishGateway", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig", "AishProviders"], swiftSettings: settings),
        // Routing: the plans LiteLLM's Router makes, compiled from the configuration.
        .target(name: "AishRouting", dependencies: ["AishBase", "AishCommand", "AishConfig", "AishProviders", "AishGateway"], swiftSettings: settings),
        // Prometheus: exposition text, the query API, key series.
        .target(name: "AishTelemetry", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig"], swiftSettings: settings),
        // Features.
        .target(name: "AishChat", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig", "AishProviders", "AishRouting"], swiftSettings: settings),
        .target(name: "AishServices", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig", "AishProviders", "AishGateway", "AishTelemetry"], swiftSettings: settings),
        // Features that build on chat and services.
        .target(name: "AishMeasure", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishConfig", "AishProviders", "AishSessionLog", "AishGateway", "AishRouting", "AishTelemetry", "AishChat"], swiftSettings: settings),
        .target(name: "AishScript", dependencies: ["AishBase", "AishCommand", "AishSessionLog"], swiftSettings: settings),
        .target(name: "AishDrill", dependencies: ["AishBase", "AishCommand", "AishConfig", "AishProviders", "AishRouting", "AishChat", "AishServices"], swiftSettings: settings),
        .target(name: "AishReplay", dependencies: ["AishBase", "AishCommand", "AishSQLite", "AishProviders", "AishSessionLog", "AishRouting", "AishChat"], swiftSettings: settings),
        .target(name: "AishReport", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishSQLite", "AishConfig", "AishProviders", "AishSessionLog", "AishGateway", "AishTelemetry", "AishServices", "AishMeasure"], swiftSettings: settings),
        // The shell: the only place that knows every command.
        .target(name: "AishShell", dependencies: ["AishBase", "AishCommand", "AishLineEditor", "AishConfig", "AishProviders", "AishSessionLog", "AishRouting", "AishChat", "AishServices", "AishMeasure", "AishScript", "AishDrill", "AishReplay", "AishReport"], swiftSettings: settings),
        // In-process benchmarks and fuzz targets (scripts/bench, scripts/fuzz); not part of aish.
        .target(name: "AishBenchmarks", dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishYAML", "AishConfig", "AishProviders", "AishSessionLog", "AishGateway", "AishRouting", "AishTelemetry", "AishMeasure", "AishScript", "AishShell"], swiftSettings: settings),
        .executableTarget(name: "aish", dependencies: ["AishShell"], swiftSettings: settings),
        // In-process benchmark figures for scripts/bench (config load, routing, log writes).
        .executableTarget(name: "aish-bench", dependencies: ["AishBenchmarks"], swiftSettings: settings),
        // Fuzz targets for every parser of untrusted input (scripts/fuzz).
        .executableTarget(name: "aish-fuzz", dependencies: ["AishBenchmarks"], swiftSettings: settings),
        .testTarget(
            name: "AishKitTests",
            dependencies: ["AishBase", "AishCommand", "AishHTTP", "AishYAML", "AishSQLite", "AishLineEditor", "AishConfig", "AishSessionLog", "AishProviders", "AishGateway", "AishRouting", "AishTelemetry", "AishChat", "AishServices", "AishMeasure", "AishScript", "AishDrill", "AishReplay", "AishReport", "AishShell", "AishBenchmarks"],
            swiftSettings: settings
        ),
    ]
)
