// swift-tools-version:6.0
// SPDX-License-Identifier: Apache-2.0
// libmodels: an in-process router for LLM chat APIs, shipped as a C-ABI shared library.
// SwiftPM builds it for development and `swift test`; CMakeLists.txt is the distribution build.
import PackageDescription

let package = Package(
    name: "libmodels",
    products: [
        // libmodels.so: only the C entry points of include/models.h are meant to be used.
        .library(name: "models", type: .dynamic, targets: ["ModelsC"]),
    ],
    targets: [
        // Tiny C shims (libcurl's variadic setopt, jansson's macros) and the module map
        // that brings libcurl and jansson into Swift.
        .target(
            name: "CModelsSupport",
            linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("jansson"), .linkedLibrary("pthread")]
        ),
        // hiredis (Debian: libhiredis-dev), the Redis client of the shared state (`shared_state`).
        .systemLibrary(name: "CHiredis"),
        // The Swift core: wire formats, transport, providers, router. Knows nothing of the C ABI.
        .target(name: "Models", dependencies: ["CModelsSupport", "CHiredis"]),
        // The @_cdecl exports: handles, errors, string ownership. Holds no logic.
        .target(name: "ModelsC", dependencies: ["Models"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "ModelsC"]),
    ]
)
