/// Codes sent to a possession factor (an SMS, an issuer's one-time password).
public enum OneTimeCode {
    /// A uniformly drawn decimal code of `digits` digits, from the system's secure generator.
    public static func numeric(digits: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<digits).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }
}
