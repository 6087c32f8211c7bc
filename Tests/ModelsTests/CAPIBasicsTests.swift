// SPDX-License-Identifier: Apache-2.0
import Glibc
import Models
import ModelsCore
import ModelsProviders
import ModelsTransport
import Testing
@testable import ModelsC

/// The exported C entry points, called as a C program would, with bad input.
@Suite struct CAPIBasicsTests {
    @Test func routerNewReportsErrorsThroughTheOutParameter() {
        var err: OpaquePointer? = OpaquePointer(bitPattern: 1)
        let r = #"{"primary":"openai/gpt-4o","max_retries":"x"}"#.withCString { models_router_new($0, &err) }
        #expect(r == nil)
        #expect(models_error_code(err) == ModelsCode.invalidArgument.rawValue)
        #expect(String(cString: models_error_message(err)!).contains("max_retries"))
        models_error_free(err)

        err = OpaquePointer(bitPattern: 1)
        let ok = #"{"primary":"openai/gpt-4o"}"#.withCString { models_router_new($0, &err) }
        #expect(ok != nil)
        #expect(err == nil)
        models_router_free(ok)
    }

    @Test func nullAndInvalidInputNeverCrash() {
        var err: OpaquePointer?
        #expect(models_router_new(nil, &err) == nil)
        #expect(models_error_code(err) == ModelsCode.invalidArgument.rawValue)
        models_error_free(err)
        #expect(models_router_new(nil, nil) == nil)
        models_router_free(nil)
        models_error_free(nil)
        models_free(nil)
        #expect(models_model_id(nil) == nil)
        #expect(models_default_base_url(nil) == nil)
        let invalid: [CChar] = [CChar(bitPattern: 0xff), CChar(bitPattern: 0xc3), 0]
        #expect(models_model_id(invalid) == nil)
        #expect(models_router_new(invalid, &err) == nil)
        #expect(models_error_code(err) == ModelsCode.invalidArgument.rawValue)
        models_error_free(err)
    }

    @Test func tenMegabyteConfigIsRefused() {
        var text = [CChar](repeating: 0x20, count: 10 << 20)
        text[0] = 0x7b; text[text.count - 2] = 0x7d; text[text.count - 1] = 0
        var err: OpaquePointer?
        #expect(models_router_new(text, &err) == nil)
        #expect(String(cString: models_error_message(err)!).contains("limit"))
        models_error_free(err)
    }

    @Test func codeNamesCoverEveryCode() {
        for code in ModelsCode.allCases {
            #expect(String(cString: models_code_name(code.rawValue)) == code.name)
        }
        #expect(String(cString: models_code_name(12345)) == "MODELS_UNKNOWN_CODE")
    }
}
