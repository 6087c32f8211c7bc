// SPDX-License-Identifier: Apache-2.0
import Testing
@testable import Models
@testable import ModelsCore
@testable import ModelsProviders
@testable import ModelsTransport

@Suite struct PrometheusTextTests {
    @Test func helpTypeAndSamplesWithLabels() {
        var f = PrometheusText.Family(name: "x_total", help: "Things.", kind: .counter)
        f.samples.append(.init(name: "x_total", labels: [("model", "a/b"), ("kind", "server")], value: 3))
        f.samples.append(.init(name: "x_total", labels: [], value: 1.5))
        #expect(PrometheusText.render([f]) == """
            # HELP x_total Things.
            # TYPE x_total counter
            x_total{model="a/b",kind="server"} 3
            x_total 1.5

            """)
    }

    @Test func labelValuesAndHelpAreEscaped() {
        #expect(PrometheusText.escapeLabel("a\\b\"c\nd") == "a\\\\b\\\"c\\nd")
        #expect(PrometheusText.escapeHelp("a\\b\"c\nd") == "a\\\\b\"c\\nd")
        var f = PrometheusText.Family(name: "m", help: "line\nbreak", kind: .gauge)
        f.samples.append(.init(name: "m", labels: [("model", "q\"uote")], value: 0))
        #expect(PrometheusText.render([f]) == "# HELP m line\\nbreak\n# TYPE m gauge\nm{model=\"q\\\"uote\"} 0\n")
    }

    @Test func histogramBucketsAreCumulativeWithInfSumAndCount() {
        var f = PrometheusText.Family(name: "d_seconds", help: "h", kind: .histogram)
        f.addHistogram(labels: [("model", "m")], bounds: [0.5, 1], counts: [2, 0, 3], sum: 7.25)
        let lines = PrometheusText.render([f]).split(separator: "\n").map(String.init)
        #expect(lines == [
            "# HELP d_seconds h", "# TYPE d_seconds histogram",
            "d_seconds_bucket{model=\"m\",le=\"0.5\"} 2",
            "d_seconds_bucket{model=\"m\",le=\"1\"} 2",
            "d_seconds_bucket{model=\"m\",le=\"+Inf\"} 5",
            "d_seconds_sum{model=\"m\"} 7.25",
            "d_seconds_count{model=\"m\"} 5",
        ])
    }

    @Test func familiesKeepTheirOrderAndEmptyOnesAreLeftOut() {
        var b = PrometheusText.Family(name: "b", help: "h", kind: .counter)
        b.samples.append(.init(name: "b", labels: [], value: 1))
        let empty = PrometheusText.Family(name: "e", help: "h", kind: .counter)
        var a = PrometheusText.Family(name: "a", help: "h", kind: .counter)
        a.samples.append(.init(name: "a", labels: [], value: 2))
        #expect(PrometheusText.render([b, empty, a]) == "# HELP b h\n# TYPE b counter\nb 1\n# HELP a h\n# TYPE a counter\na 2\n")
        #expect(PrometheusText.render([]) == "")
    }

    @Test func numbers() {
        #expect(PrometheusText.number(0) == "0")
        #expect(PrometheusText.number(120) == "120")
        #expect(PrometheusText.number(0.05) == "0.05")
        #expect(PrometheusText.number(.infinity) == "+Inf")
        #expect(PrometheusText.number(-.infinity) == "-Inf")
        #expect(PrometheusText.number(.nan) == "NaN")
    }
}

@Suite struct RouterMetricsTests {
    func sample(_ text: String, _ line: String) -> Double? {
        for l in text.split(separator: "\n") where l.hasPrefix(line + " ") {
            return Double(l.dropFirst(line.count + 1))
        }
        return nil
    }

    @Test func countersPerModelAndGroup() {
        let m = RouterMetrics()
        m.callStarted("primary")
        m.attemptStarted("a/x", group: nil, number: 0)
        m.attemptEnded("a/x", group: nil, ms: 30, error: .server)
        m.attemptStarted("a/x", group: nil, number: 1)
        m.attemptEnded("a/x", group: nil, ms: 3_000, error: .rateLimit)
        m.cooldownStarted("a/x", group: nil)
        m.fellBack(from: "a/x", group: nil)
        m.attemptStarted("b/y", group: "g", number: 0)
        m.attemptEnded("b/y", group: "g", ms: 200, error: nil)
        m.used("b/y", group: "g", TokenUsage(input: 10, output: 5, cachedInput: 4), costUSD: 0.25)
        m.used("b/y", group: "g", TokenUsage(input: 1, output: 1), costUSD: 0.5)
        m.firstToken("b/y", group: "g", ms: 700)
        m.callEnded("primary", ms: 3_500)
        let text = m.prometheusText()
        #expect(sample(text, "libmodels_requests_total{model=\"primary\"}") == 1)
        #expect(sample(text, "libmodels_attempts_total{model=\"a/x\"}") == 2)
        #expect(sample(text, "libmodels_attempts_total{model=\"b/y\",group=\"g\"}") == 1)
        #expect(sample(text, "libmodels_retries_total{model=\"a/x\"}") == 1)
        #expect(sample(text, "libmodels_errors_total{model=\"a/x\",kind=\"rate_limit\"}") == 1)
        #expect(sample(text, "libmodels_errors_total{model=\"a/x\",kind=\"server\"}") == 1)
        #expect(sample(text, "libmodels_fallbacks_total{model=\"a/x\"}") == 1)
        #expect(sample(text, "libmodels_cooldowns_total{model=\"a/x\"}") == 1)
        #expect(sample(text, "libmodels_prompt_tokens_total{model=\"b/y\",group=\"g\"}") == 11)
        #expect(sample(text, "libmodels_completion_tokens_total{model=\"b/y\",group=\"g\"}") == 6)
        #expect(sample(text, "libmodels_cached_prompt_tokens_total{model=\"b/y\",group=\"g\"}") == 4)
        #expect(sample(text, "libmodels_cost_usd_total{model=\"b/y\",group=\"g\"}") == 0.75)
        #expect(sample(text, "libmodels_time_to_first_token_seconds_bucket{model=\"b/y\",group=\"g\",le=\"0.5\"}") == 0)
        #expect(sample(text, "libmodels_time_to_first_token_seconds_bucket{model=\"b/y\",group=\"g\",le=\"1\"}") == 1)
        #expect(sample(text, "libmodels_time_to_first_token_seconds_sum{model=\"b/y\",group=\"g\"}") == 0.7)
        #expect(sample(text, "libmodels_cost_usd_total{model=\"a/x\"}") == nil)
        #expect(sample(text, "libmodels_attempt_duration_seconds_bucket{model=\"a/x\",le=\"0.05\"}") == 1)
        #expect(sample(text, "libmodels_attempt_duration_seconds_bucket{model=\"a/x\",le=\"2.5\"}") == 1)
        #expect(sample(text, "libmodels_attempt_duration_seconds_bucket{model=\"a/x\",le=\"5\"}") == 2)
        #expect(sample(text, "libmodels_attempt_duration_seconds_bucket{model=\"a/x\",le=\"+Inf\"}") == 2)
        #expect(sample(text, "libmodels_attempt_duration_seconds_sum{model=\"a/x\"}") == 3.03)
        #expect(sample(text, "libmodels_call_duration_seconds_count{model=\"primary\"}") == 1)
        // No retries for b/y: no zero sample.
        #expect(sample(text, "libmodels_retries_total{model=\"b/y\",group=\"g\"}") == nil)
    }

    @Test func emptyRouterHasNoSamples() {
        #expect(RouterMetrics().prometheusText() == "")
    }
}
