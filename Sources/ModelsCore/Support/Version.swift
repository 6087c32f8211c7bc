// SPDX-License-Identifier: Apache-2.0
/// The library's version. CMakeLists.txt and bindings/python read it from here.
public enum LibraryVersion {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static let string = "0.1.0"
    public static let userAgent = "libmodels/\(string)"
}
