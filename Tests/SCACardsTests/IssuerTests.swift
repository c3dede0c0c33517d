import SCACards
import SCARules
import Testing

@Suite struct IssuerTests {
    static let merchant = Merchant(id: "demo-shop", name: "Demo Shop", country: "NL")
    static let now = Instant(rfc3339: "2026-11-21T12:00:00Z")!

    /// The authentication value binds the card, amount and merchant, verifies at
    /// authorisation once, and a forged or replayed one is refused with 20155.
    @Test func authenticationValueIsVerifiedOnce() throws {
        let network = try CardNetwork(profiles: Sandbox.issuers, key: Array(repeating: 3, count: 32))
        let card = try #require(CardNumber("4000010000000019"))
        let issuer = try #require(network.issuer(of: card))
        let amount = Money(minorUnits: 2500, currency: .eur)
        let request = AuthenticationRequest(
            threeDSServerTransID: "3ds_t1", card: card, amount: amount, merchant: Self.merchant,
            challengeIndicator: .noChallengeRequested, exemption: nil
        )
        let result = issuer.authenticate(request, dsTransID: CardNetwork.dsTransID(for: "3ds_t1"), at: Self.now)
        #expect(result.transStatus == .authenticated)
        #expect(result.eci == "05")
        func authorise(_ authentication: AuthenticationResult, amount: Money = amount, id: String) -> String {
            issuer.authorise(
                .init(
                    transactionID: id, card: card, amount: amount, merchant: Self.merchant, authentication: authentication,
                    exemption: nil, merchantInitiated: false, moto: false
                ), at: Self.now
            ).code
        }
        var forged = result
        forged.authenticationValue = "AAAAAAAAAAAAAAAAAAAAAAAAAAA"
        #expect(authorise(forged, id: "a1") == ResponseCode.invalidAuthenticationValue)
        #expect(authorise(result, amount: Money(minorUnits: 2600, currency: .eur), id: "a2") == ResponseCode.invalidAuthenticationValue)
        #expect(authorise(result, id: "a3") == ResponseCode.approved)
        #expect(authorise(result, id: "a4") == ResponseCode.invalidAuthenticationValue)
    }

    /// The issuer's own low-value counters (RTS Art. 16): five exempt payments, then SCA.
    @Test func issuerCountsLowValueItself() throws {
        let network = try CardNetwork(profiles: Sandbox.issuers, key: Array(repeating: 3, count: 32))
        let card = try #require(CardNumber("4000030000000017"))
        let issuer = try #require(network.issuer(of: card))
        var statuses: [TransStatus] = []
        for index in 1...6 {
            let request = AuthenticationRequest(
                threeDSServerTransID: "3ds_lv\(index)", card: card, amount: Money(minorUnits: 1000, currency: .eur),
                merchant: Self.merchant, challengeIndicator: .noPreference, exemption: .lowValue
            )
            statuses.append(issuer.authenticate(request, dsTransID: "ds_\(index)", at: Self.now).transStatus)
        }
        #expect(statuses == [.informational, .informational, .informational, .informational, .informational, .challenge])
    }

    @Test func profilesAreValidated() {
        var profile = Sandbox.issuers[0]
        profile.country = "XX"
        #expect(throws: CardNetwork.Problem.self) { try CardNetwork(profiles: [profile], key: [1]) }
        #expect(throws: CardNetwork.Problem.self) { try CardNetwork(profiles: [Sandbox.issuers[0], Sandbox.issuers[0]], key: [1]) }
        #expect(CardNumber("4000010000000018") == nil)
        #expect(CardNumber("4000010000000019")?.description == "400001******0019")
    }
}
