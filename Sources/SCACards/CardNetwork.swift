import Crypto
import SCAAudit
import SCAPrimitives
import SCARules

/// The simulated card networks: a directory server that knows which issuer holds which
/// card range and routes 3DS messages to that issuer's ACS, and the authorisation path to
/// the same issuer. The seam where a real 3DS server and acquiring connection would plug in.
public struct CardNetwork: Sendable {
    public let issuers: [SimulatedIssuer]
    /// (prefix, issuer index), longest prefixes first.
    private let ranges: [(prefix: String, issuer: Int)]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case profile(IssuerProfile.Problem)
        case overlapping(String)
        public var description: String {
            switch self {
            case .profile(let problem): problem.description
            case .overlapping(let prefix): "BIN prefix \(prefix) belongs to two issuer profiles"
            }
        }
    }

    public init(profiles: [IssuerProfile], rules: RulesConfiguration = RulesConfiguration(), key: [UInt8]) throws(Problem) {
        var seen: Set<String> = []
        var ranges: [(String, Int)] = []
        for (index, profile) in profiles.enumerated() {
            do { try profile.validate() } catch { throw .profile(error) }
            for prefix in profile.bins {
                guard seen.insert(prefix).inserted else { throw .overlapping(prefix) }
                ranges.append((prefix, index))
            }
        }
        issuers = profiles.map { SimulatedIssuer(profile: $0, rules: rules, key: key) }
        self.ranges = ranges.sorted { $0.0.count > $1.0.count }
    }

    /// The issuer of a card: the longest matching BIN prefix.
    public func issuer(of card: CardNumber) -> SimulatedIssuer? {
        ranges.first { card.digits.hasPrefix($0.prefix) }.map { issuers[$0.issuer] }
    }

    /// The issuer whose ACS holds this challenge.
    public func issuer(ofChallenge acsTransID: String) -> SimulatedIssuer? {
        issuers.first { $0.holdsChallenge(acsTransID) }
    }

    /// The directory server's transaction id for an AReq: derived, so a retry of one AReq
    /// is one transaction.
    public static func dsTransID(for serverTransID: String) -> String {
        "ds_" + digestHex("ds|\(serverTransID)")
    }
}

/// 24 hex digits of SHA-256 over `text`: an id derived from what it names.
func digestHex(_ text: String) -> String {
    hex(Array(Array(SHA256.hash(data: Array(text.utf8))).prefix(12)))
}
