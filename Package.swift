// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "aish",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "aish", targets: ["aish"]),
        .library(name: "AishKit", targets: ["AishKit"]),
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
        .target(
            name: "AishKit",
            dependencies: ["CEdit", "CCurl", "CYAML", "CSQLite"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "aish",
            dependencies: ["AishKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // In-process benchmark figures for scripts/bench (config load, routing, log writes).
        .executableTarget(
            name: "aish-bench",
            dependencies: ["AishKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Fuzz targets for every parser of untrusted input (scripts/fuzz).
        .executableTarget(
            name: "aish-fuzz",
            dependencies: ["AishKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .testTarget(
            name: "AishKitTests",
            dependencies: ["AishKit"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
