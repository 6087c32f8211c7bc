// SPDX-License-Identifier: Apache-2.0
import ModelsCore
import ModelsTransport

/// Reads one JSON object of the config (or of a call's options), key by key,
/// and turns every surprise into an `invalidArgument` error that names the key
/// by its full path (`providers.openai.base_url`). Values are never echoed:
/// they may be secrets.
struct ConfigReader {
    let object: JSON
    let path: String
    /// What the messages call the whole document: "config" or "options".
    let document: String
    private let allowed: [String]

    /// `allowed` lists every key this object may hold; any other key is an error.
    init(_ value: JSON, path: String, allowed: [String], document: String = "config") throws(ModelsError) {
        guard value.kind == .object else {
            throw .invalidArgument("\(document): \(path.isEmpty ? "the \(document)" : "\"\(path)\"") must be an object, not \(value.kindName)")
        }
        self.object = value
        self.path = path
        self.document = document
        self.allowed = allowed
        for key in value.keys where !allowed.contains(key) {
            var message = "\(document): unknown key \"\(keyPath(key))\""
            if let near = Self.suggestion(for: key, among: allowed) { message += " (did you mean \"\(near)\"?)" }
            throw .invalidArgument(message)
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func wrongType(_ key: String, _ expected: String, _ got: JSON) -> ModelsError {
        .invalidArgument("\(document): \"\(keyPath(key))\" must be \(expected), not \(got.kindName)")
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String, nonEmpty: Bool = true) throws(ModelsError) -> String? {
        guard let v = object[key] else { return nil }
        guard let s = v.string else { throw wrongType(key, "a string", v) }
        if nonEmpty && s.isEmpty { throw .invalidArgument("\(document): \"\(keyPath(key))\" must not be empty") }
        return s
    }

    /// A key or token that goes into a header as it is: never with spaces at either
    /// end or any control character (a key pasted from a file keeps its newline,
    /// which would split the request). The message names the key, never the value.
    func credential(_ key: String) throws(ModelsError) -> String? {
        guard let s = try string(key) else { return nil }
        guard HeaderText.isValidCredential(s) else {
            throw .invalidArgument("\(document): \"\(keyPath(key))\" \(HeaderText.credentialProblem)")
        }
        return s
    }

    func bool(_ key: String) throws(ModelsError) -> Bool? {
        guard let v = object[key] else { return nil }
        guard let b = v.bool else { throw wrongType(key, "true or false", v) }
        return b
    }

    /// A whole number in `range`.
    func integer(_ key: String, in range: ClosedRange<Int64>) throws(ModelsError) -> Int64? {
        guard let v = object[key] else { return nil }
        guard let i = v.int else { throw wrongType(key, "a whole number", v) }
        guard range.contains(i) else {
            throw .invalidArgument("\(document): \"\(keyPath(key))\" must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return i
    }

    /// A number strictly above `above` and at most `max`.
    func number(_ key: String, above: Double, max: Double) throws(ModelsError) -> Double? {
        guard let v = object[key] else { return nil }
        guard let d = v.double else { throw wrongType(key, "a number", v) }
        guard d > above, d <= max else {
            throw .invalidArgument("\(document): \"\(keyPath(key))\" must be above \(Self.format(above)) and at most \(Self.format(max))")
        }
        return d
    }

    func stringArray(_ key: String) throws(ModelsError) -> [String]? {
        guard let v = object[key] else { return nil }
        guard let items = v.array else { throw wrongType(key, "an array of strings", v) }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.string else {
                throw .invalidArgument("\(document): \"\(keyPath(key))[\(i)]\" must be a string, not \(item.kindName)")
            }
            out.append(s)
        }
        return out
    }

    /// The members of an object-valued key, each to be read by the caller.
    func objectMembers(_ key: String) throws(ModelsError) -> [(key: String, value: JSON)]? {
        guard let v = object[key] else { return nil }
        guard let members = v.members else { throw wrongType(key, "an object", v) }
        return members
    }

    func child(_ key: String, allowed: [String]) throws(ModelsError) -> ConfigReader? {
        guard let v = object[key] else { return nil }
        return try ConfigReader(v, path: keyPath(key), allowed: allowed, document: document)
    }

    private static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// How near `key` is to `known`, from 0 to 1, or nil when too far to
    /// suggest. Case and `-`/`_` do not count; then one edit apart is near
    /// (`typ`, `tipe` for `type`), and so is a key whose longest common
    /// subsequence with `known` covers 80 % of both (`max_retry` for
    /// `max_retries`, `timeout` for `timeout_ms`).
    static func nearness(_ known: String, _ key: String) -> Double? {
        let norm = { (s: String) in Array(s.lowercased().utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "_") : $0 }) }
        let x = norm(known), y = norm(key)
        if x == y { return 1 }
        guard x.count > 3, !y.isEmpty, x.count <= 64, y.count <= 64 else { return nil }
        // Edit distance and longest common subsequence, one row at a time.
        var edits = Array(0...y.count), common = Array(repeating: 0, count: y.count + 1)
        var editsRow = edits, commonRow = common
        for i in 1...x.count {
            editsRow[0] = i
            for j in 1...y.count {
                let same = x[i - 1] == y[j - 1]
                editsRow[j] = min(edits[j] + 1, editsRow[j - 1] + 1, edits[j - 1] + (same ? 0 : 1))
                commonRow[j] = same ? common[j - 1] + 1 : max(common[j], commonRow[j - 1])
            }
            swap(&edits, &editsRow)
            swap(&common, &commonRow)
        }
        let ratio = 2 * Double(common[y.count]) / Double(x.count + y.count)
        return edits[y.count] <= 1 || ratio >= 0.8 ? ratio : nil
    }

    /// The allowed key nearest to `key`, if one is near enough to suggest.
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        allowed.compactMap { known in nearness(known, key).map { (known, $0) } }.max { $0.1 < $1.1 }?.0
    }
}
