/// Reads one JSON object of the config, key by key, and turns every surprise into
/// an `invalidArgument` error that names the key by its full path
/// (`providers.openai.base_url`). Values are never echoed: they may be secrets.
struct ConfigReader {
    let object: JSON
    let path: String
    private let allowed: [String]

    /// `allowed` lists every key this object may hold; any other key is an error.
    init(_ value: JSON, path: String, allowed: [String]) throws(ModelsError) {
        guard value.kind == .object else {
            throw .invalidArgument("config: \(path.isEmpty ? "the config" : "\"\(path)\"") must be an object, not \(value.kindName)")
        }
        self.object = value
        self.path = path
        self.allowed = allowed
        for key in value.keys where !allowed.contains(key) {
            var message = "config: unknown key \"\(keyPath(key))\""
            if let near = allowed.first(where: { Self.isNear($0, key) }) { message += " (did you mean \"\(near)\"?)" }
            throw .invalidArgument(message)
        }
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func wrongType(_ key: String, _ expected: String, _ got: JSON) -> ModelsError {
        .invalidArgument("config: \"\(keyPath(key))\" must be \(expected), not \(got.kindName)")
    }

    func has(_ key: String) -> Bool { object[key] != nil }

    func string(_ key: String, nonEmpty: Bool = true) throws(ModelsError) -> String? {
        guard let v = object[key] else { return nil }
        guard let s = v.string else { throw wrongType(key, "a string", v) }
        if nonEmpty && s.isEmpty { throw .invalidArgument("config: \"\(keyPath(key))\" must not be empty") }
        return s
    }

    /// A key or token that goes into a header as it is: never with spaces at either
    /// end or any control character (a key pasted from a file keeps its newline,
    /// which would split the request). The message names the key, never the value.
    func credential(_ key: String) throws(ModelsError) -> String? {
        guard let s = try string(key) else { return nil }
        guard HeaderText.isValidCredential(s) else {
            throw .invalidArgument("config: \"\(keyPath(key))\" \(HeaderText.credentialProblem)")
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
            throw .invalidArgument("config: \"\(keyPath(key))\" must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return i
    }

    /// A number strictly above `above` and at most `max`.
    func number(_ key: String, above: Double, max: Double) throws(ModelsError) -> Double? {
        guard let v = object[key] else { return nil }
        guard let d = v.double else { throw wrongType(key, "a number", v) }
        guard d > above, d <= max else {
            throw .invalidArgument("config: \"\(keyPath(key))\" must be above \(Self.format(above)) and at most \(Self.format(max))")
        }
        return d
    }

    func stringArray(_ key: String) throws(ModelsError) -> [String]? {
        guard let v = object[key] else { return nil }
        guard let items = v.array else { throw wrongType(key, "an array of strings", v) }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard let s = item.string else {
                throw .invalidArgument("config: \"\(keyPath(key))[\(i)]\" must be a string, not \(item.kindName)")
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
        return try ConfigReader(v, path: keyPath(key), allowed: allowed)
    }

    private static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    /// Near enough to suggest: same letters with `-`/`_` or case swapped, or one edit apart.
    private static func isNear(_ a: String, _ b: String) -> Bool {
        let norm = { (s: String) in Array(s.lowercased().utf8.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "_") : $0 }) }
        let x = norm(a), y = norm(b)
        if x == y { return true }
        guard abs(x.count - y.count) <= 1, x.count > 3 else { return false }
        // One insertion, deletion or substitution.
        var i = 0, j = 0, edits = 0
        while i < x.count, j < y.count {
            if x[i] == y[j] { i += 1; j += 1; continue }
            edits += 1
            if edits > 1 { return false }
            if x.count > y.count { i += 1 } else if y.count > x.count { j += 1 } else { i += 1; j += 1 }
        }
        return edits + (x.count - i) + (y.count - j) <= 1
    }
}
