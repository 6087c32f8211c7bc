// SPDX-License-Identifier: Apache-2.0

/// The Prometheus text exposition format (version 0.0.4), as a pure function
/// of metric families: `# HELP`, `# TYPE`, then the samples in the order given.
public enum PrometheusText {
    public enum Kind: String, Sendable { case counter, histogram, gauge }

    public struct Sample: Sendable, Equatable {
        /// The family's name plus a suffix (`_bucket`, `_sum`, `_count`) or none.
        public var name: String
        public var labels: [(String, String)]
        public var value: Double

        public init(name: String, labels: [(String, String)], value: Double) {
            (self.name, self.labels, self.value) = (name, labels, value)
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.name == b.name && a.value == b.value && a.labels.count == b.labels.count
                && zip(a.labels, b.labels).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        }
    }

    public struct Family: Sendable {
        public var name: String
        public var help: String
        public var kind: Kind
        public var samples: [Sample]

        public init(name: String, help: String, kind: Kind, samples: [Sample] = []) {
            (self.name, self.help, self.kind, self.samples) = (name, help, kind, samples)
        }

        /// A histogram's samples: cumulative `_bucket`s for each upper bound and
        /// `+Inf`, then `_sum` and `_count`. `counts[i]` is the number of
        /// observations in bucket i alone (`counts.count == bounds.count + 1`,
        /// the last one above every bound).
        public mutating func addHistogram(labels: [(String, String)], bounds: [Double], counts: [UInt64], sum: Double) {
            var cumulative: UInt64 = 0
            for (i, count) in counts.enumerated() {
                cumulative &+= count
                let le = i < bounds.count ? PrometheusText.number(bounds[i]) : "+Inf"
                samples.append(Sample(name: name + "_bucket", labels: labels + [("le", le)], value: Double(cumulative)))
            }
            samples.append(Sample(name: name + "_sum", labels: labels, value: sum))
            samples.append(Sample(name: name + "_count", labels: labels, value: Double(cumulative)))
        }
    }

    /// The text of these families; a family without samples is left out.
    public static func render(_ families: [Family]) -> String {
        var out = ""
        for family in families where !family.samples.isEmpty {
            out += "# HELP \(family.name) \(escapeHelp(family.help))\n"
            out += "# TYPE \(family.name) \(family.kind.rawValue)\n"
            for sample in family.samples {
                out += sample.name
                if !sample.labels.isEmpty {
                    out += "{"
                    out += sample.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
                    out += "}"
                }
                out += " " + number(sample.value) + "\n"
            }
        }
        return out
    }

    /// A label value: backslash, double quote and line feed escaped.
    public static func escapeLabel(_ s: String) -> String { escape(s, quote: true) }

    /// A HELP text: backslash and line feed escaped (quotes stay as they are).
    public static func escapeHelp(_ s: String) -> String { escape(s, quote: false) }

    private static func escape(_ s: String, quote: Bool) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"" where quote: out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A sample value: integers without a fraction, `+Inf`, `-Inf`, `NaN`.
    public static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }
}
