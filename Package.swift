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
        // The Swift core, one target a layer, each importing only the layers below it
        // (what crosses a target is `package`, not `public`):
        // 1. ModelsCore: support (locks, log, clock, redaction), JSON, errors, SSE and event-stream parsing, model names.
        .target(name: "ModelsCore", dependencies: ["CModelsSupport"]),
        // 2. ModelsTransport: libcurl (easy and multi handles, transfers, kept connections), HTTP heads, cancellation.
        .target(name: "ModelsTransport", dependencies: ["ModelsCore", "CModelsSupport"]),
        // 3. ModelsProviders: the chat request and answer, the provider protocol and its
        //    implementations (OpenAI-compatible, Azure, Anthropic, Bedrock, Copilot, callbacks), the registry.
        .target(name: "ModelsProviders", dependencies: ["ModelsCore", "ModelsTransport", "CModelsSupport"]),
        // 4. Models: router, engine, config, telemetry, metrics, shared state. Knows nothing of the C ABI.
        .target(name: "Models", dependencies: ["ModelsCore", "ModelsTransport", "ModelsProviders", "CModelsSupport", "CHiredis"]),
        // The @_cdecl exports: handles, errors, string ownership. Holds no logic.
        .target(name: "ModelsC", dependencies: ["Models", "ModelsCore", "ModelsTransport", "ModelsProviders"]),
        .testTarget(name: "ModelsTests", dependencies: ["ModelsCore", "ModelsTransport", "ModelsProviders", "Models", "ModelsC"]),
    ]
)
