// SPDX-License-Identifier: Apache-2.0
// Time per chunk of JSONScanner.scan against json_loadb + json_decref, on the
// same chat.completion.chunk texts bench_chat streams (make_canned.py's shapes),
// from memory. A benchmark, not a test. Built and run by hand:
//
//   swiftc -O -wmo -parse-as-library -package-name bench -I Sources/CModelsSupport/include \
//     Sources/ModelsCore/JSON/JSONScanner.swift bench/scanner_bench.swift -lm -o /tmp/scanner_bench
//   /tmp/scanner_bench [seconds]
import CModelsSupport

func chunk(_ i: Int, delta: String, finish: String = "null", usage: String? = nil, choices: Bool = true) -> String {
    let choice = choices ? #"[{"index":0,"delta":\#(delta),"finish_reason":\#(finish)}]"# : "[]"
    let tail = usage.map { #","usage":\#($0)"# } ?? ""
    return #"{"id":"chatcmpl-bench01","object":"chat.completion.chunk","created":1700000000,"model":"gpt-bench","choices":\#(choice)\#(tail)}"#
}

func chunks(_ n: Int) -> [[UInt8]] {
    var out = [chunk(0, delta: #"{"role":"assistant","content":""}"#)]
    for i in 1..<(n - 2) {
        let word = i % 3 != 0 ? "w" + String(repeating: "0", count: 5 - String(i).count) + String(i) + " " : "tok\(i) "
        out.append(chunk(i, delta: #"{"content":"\#(word)"}"#))
    }
    out.append(chunk(n - 2, delta: "{}", finish: #""stop""#))
    out.append(chunk(n - 1, delta: "{}", usage: #"{"prompt_tokens":12,"completion_tokens":\#(n - 3),"total_tokens":\#(n + 9)}"#, choices: false))
    return out.map { Array($0.utf8) + [0] } // NUL-terminated, as the library's chunks are
}

/// Median over rounds of the time per chunk, in ns.
func measure(_ name: String, seconds: Double, _ texts: [[UInt8]], _ body: (UnsafeRawBufferPointer) -> Int) -> Double {
    let clock = ContinuousClock()
    var perChunk: [Double] = []
    var sink = 0
    let end = clock.now + .milliseconds(Int(seconds * 1000))
    while clock.now < end {
        let start = clock.now
        for t in texts { sink &+= t.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0.dropLast())) } }
        let d = clock.now - start
        perChunk.append((Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9) / Double(texts.count))
    }
    perChunk.sort()
    let median = perChunk[perChunk.count / 2]
    print(name, "ns/chunk median", (median * 10).rounded() / 10, "rounds", perChunk.count, "sink", sink & 1)
    print("RESULT \(name)_ns_per_chunk \((median * 10).rounded() / 10)")
    return median
}

@main struct ScannerBench {
    static func main() {
        let seconds = CommandLine.arguments.count > 1 ? Double(CommandLine.arguments[1]) ?? 2 : 2
        let texts = chunks(10_000)
        let average = Double(texts.reduce(0) { $0 + $1.count - 1 }) / Double(texts.count)
        print("chunks", texts.count, "average bytes", (average * 10).rounded() / 10)
        let scanner = JSONScanner(keys: "error", "usage")
        let scan = measure("scanner", seconds: seconds, texts) { buf in
            let r = scanner.scan(buf)
            return r.isValid ? (r.range(of: 1)?.count ?? 1) : 0
        }
        let jansson = measure("json_loadb+json_decref", seconds: seconds, texts) { buf in
            guard let root = json_loadb(buf.baseAddress!.assumingMemoryBound(to: CChar.self), buf.count, 0, nil) else { return 0 }
            json_decref(root)
            return 1
        }
        print("scanner speed-up", (jansson / scan * 10).rounded() / 10, "x; MB/s", (average / scan * 1000).rounded())
    }
}
