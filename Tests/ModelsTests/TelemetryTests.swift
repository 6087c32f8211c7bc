// SPDX-License-Identifier: Apache-2.0
import Glibc
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct CostTests {
    let gpt4o = Price(inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25)

    @Test func uncachedCachedAndOutputTokensEachAtTheirPrice() {
        // 600 × 2.5 + 400 × 1.25 + 500 × 10 dollars per million tokens.
        #expect(gpt4o.cost(of: TokenUsage(input: 1000, output: 500, cachedInput: 400)) == 0.007)
        #expect(gpt4o.cost(of: .zero) == 0)
    }

    @Test func cachedTokensWithoutTheirOwnPriceAreInput() {
        let p = Price(inputPerMillion: 3, outputPerMillion: 15)
        #expect(p.cost(of: TokenUsage(input: 1_000_000, output: 0, cachedInput: 999_999)) == 3)
    }

    @Test func absurdCountsSaturateAndStayFinite() {
        let huge = TokenUsage(input: .max, output: .max, cachedInput: .max, total: .max)
        #expect(huge.total == .max)
        #expect(TokenUsage(input: .max, output: .max).total == .max) // saturating sum
        let cost = Price(inputPerMillion: Price.maxPerMillion, outputPerMillion: Price.maxPerMillion).cost(of: huge)
        #expect(cost.isFinite && cost > 1e19)
        // Negative counts from a provider count as none; cached is never above input.
        let odd = TokenUsage(input: -5, output: -1, cachedInput: 9)
        #expect(odd == TokenUsage(input: 0, output: 0, cachedInput: 0))
        #expect(TokenUsage(input: 10, output: 0, cachedInput: 50).cachedInput == 10)
    }

    @Test func usageIsReadFromOpenAIShapes() throws {
        let usage = TokenUsage(openAI: try JSON.parse(#"{"prompt_tokens":12,"completion_tokens":3,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":5}}"#))
        #expect(usage == TokenUsage(input: 12, output: 3, cachedInput: 5, total: 20))
        #expect(TokenUsage(openAI: try JSON.parse(#"{"prompt_tokens":"x","completion_tokens":1e300}"#)) == .zero)
        #expect(TokenUsage(openAI: nil) == .zero)
    }

    @Test func anAnswersUsageIsFoundWithoutParsingTheRest() {
        let text = Array(#"{"id":"x","choices":[{"message":{"content":"usage"}}],"usage":{"prompt_tokens":7,"completion_tokens":2}}"#.utf8)
        let answer = ChatAnswer(checkedBytes: text, model: nil)
        #expect(answer.usage == TokenUsage(input: 7, output: 2))
        let escaped = Array(#"{"\u0075sage":{"prompt_tokens":1,"completion_tokens":1}}"#.utf8)
        #expect(ChatAnswer(checkedBytes: escaped, model: nil).usage == TokenUsage(input: 1, output: 1))
        #expect(ChatAnswer(checkedBytes: Array(#"{"usage":null}"#.utf8), model: nil).usage == .zero)
    }

    @Test func theTableLooksUpByModel() {
        let table = PriceTable(["openai/gpt-4o": gpt4o])
        #expect(table.cost("openai/gpt-4o", TokenUsage(input: 1_000_000, output: 0)) == 2.5)
        #expect(table.cost("openai/gpt-4o-mini", TokenUsage(input: 1, output: 1)) == nil)
        #expect(!PriceTable().has("openai/gpt-4o"))
    }
}

@Suite struct PriceConfigTests {
    func parse(_ prices: String) throws(ModelsError) -> RouterConfig {
        try RouterConfigTests.parse(#"{"primary":"openai/gpt-4o","prices":"# + prices + "}")
    }

    @Test func pricesAreRead() throws {
        let config = try parse(#"{"openai/gpt-4o":{"input_per_million":2.5,"output_per_million":10,"cached_input_per_million":1.25},"local/m":{"input_per_million":0,"output_per_million":0}}"#)
        #expect(config.prices.prices["openai/gpt-4o"] == Price(inputPerMillion: 2.5, outputPerMillion: 10, cachedInputPerMillion: 1.25))
        #expect(config.prices.prices["local/m"] == Price(inputPerMillion: 0, outputPerMillion: 0))
    }

    @Test func badPricesNameTheKey() {
        func message(_ prices: String) -> String {
            do { _ = try parse(prices); return "" } catch { return error.message }
        }
        #expect(message(#"{"openai/gpt-4o":{"input_per_million":-1,"output_per_million":1}}"#)
            .contains("\"prices.openai/gpt-4o.input_per_million\" must be a number from 0"))
        #expect(message(#"{"openai/gpt-4o":{"input_per_million":1e300,"output_per_million":1}}"#).contains("input_per_million"))
        #expect(message(#"{"openai/gpt-4o":{"input_per_million":"2","output_per_million":1}}"#).contains("input_per_million"))
        #expect(message(#"{"openai/gpt-4o":{"input_per_million":1}}"#).contains("\"prices.openai/gpt-4o.output_per_million\" is required"))
        #expect(message(#"{"openai/gpt-4o":{"input_per_milion":1,"output_per_million":1}}"#).contains("did you mean \"input_per_million\""))
        #expect(message(#"{"bad name":{"input_per_million":1,"output_per_million":1}}"#).contains("\"prices\" has a key"))
        #expect(message(#"[]"#).contains("\"prices\" must be an object"))
    }

    @Test func xLibmodelsIsABoolean() throws {
        #expect(try RouterConfigTests.parse(#"{"primary":"a/b","x_libmodels":true}"#).xLibmodels)
        #expect(throws: ModelsError.self) { try RouterConfigTests.parse(#"{"primary":"a/b","x_libmodels":1}"#) }
    }
}

@Suite struct EventJSONTests {
    @Test func membersInOrderWithCommonOnesFirst() throws {
        var e = EventJSON("attempt.end", callID: 7, timeUnixNano: 1_700_000_000_000_000_000, stream: false, metadata: #"{"a":[1]}"#)
        e.string("gen_ai.request.model", "openai/gpt-\"4o\"\n")
        e.int("libmodels.latency_ms", -3)
        e.int("libmodels.attempt", 0)
        e.usage(TokenUsage(input: 9, output: Int64.max, cachedInput: 2))
        e.number("libmodels.cost_usd", 0.000_047_5)
        e.number("nan", .nan)
        e.error(ModelsError.api(status: 503, message: "busy"))
        let text = String(decoding: e.finish(), as: UTF8.self)
        #expect(text == #"{"event":"attempt.end","libmodels.call_id":7,"libmodels.time_unix_nano":1700000000000000000,"gen_ai.operation.name":"chat","libmodels.stream":false,"libmodels.metadata":{"a":[1]},"gen_ai.request.model":"openai/gpt-\"4o\"\n","libmodels.latency_ms":-3,"libmodels.attempt":0,"gen_ai.usage.input_tokens":9,"gen_ai.usage.output_tokens":9223372036854775807,"gen_ai.usage.cache_read.input_tokens":2,"libmodels.cost_usd":4.75e-05,"error.type":"server","http.response.status_code":503,"libmodels.error.message":"busy"}"#)
        let parsed = try JSON.parse(text)
        #expect(parsed["libmodels.cost_usd"]?.double == 0.000_047_5)
        #expect(parsed["gen_ai.usage.output_tokens"]?.int == .max)
    }

    @Test func int64MinIsWritten() throws {
        var e = EventJSON("x", callID: 0, timeUnixNano: .min, stream: true, metadata: nil)
        let text = String(decoding: e.finish(), as: UTF8.self)
        #expect(text == #"{"event":"x","libmodels.call_id":0,"libmodels.time_unix_nano":-9223372036854775808,"gen_ai.operation.name":"chat","libmodels.stream":true}"#)
    }
}

@Suite struct EventHubTests {
    final class Box: @unchecked Sendable { // only touched on the test's thread
        var texts: [String] = []
    }

    @Test func noHandlerBuildsNothing() {
        let hub = EventHub()
        #expect(!hub.isOn)
        var built = false
        hub.emit { built = true; return [] }
        #expect(!built)
    }

    @Test func theHandlerGetsNulTerminatedTextUntilRemoved() {
        let hub = EventHub(), box = Box()
        hub.set { text in
            #expect(text.baseAddress!.load(fromByteOffset: text.count, as: UInt8.self) == 0)
            box.texts.append(String(decoding: text, as: UTF8.self))
        }
        #expect(hub.isOn)
        hub.emit { Array("{}".utf8) }
        hub.set(nil)
        hub.emit { Array("{\"late\":1}".utf8) }
        #expect(box.texts == ["{}"])
        #expect(hub.nextCallID() != hub.nextCallID())
    }

    @Test func aHandlerMayRemoveItself() {
        let hub = EventHub(), box = Box()
        hub.set { text in
            box.texts.append(String(decoding: text, as: UTF8.self))
            hub.set(nil) // returns at once: it cannot wait for itself
        }
        hub.emit { Array("1".utf8) }
        hub.emit { Array("2".utf8) }
        #expect(box.texts == ["1"])
    }
}
