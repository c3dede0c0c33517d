import SCARules

/// A seeded stream of contract lines touching every kind of state the store keeps:
/// counters (remote and contactless), sessions, series, trusted payees, consents and
/// mandates, with SCA passed, failed or absent, across both regimes and one-leg-out.
enum GeneratedStream {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func lines(seed: UInt64, count: Int) -> [String] {
        var random = Generator(state: seed)
        var minutes = 0
        var ids: [String] = []
        var out: [String] = []
        let countries = ["DE", "PL", "GB", "FR"]
        let payees = ["shop", "rent", "gym", "cafe"]
        for index in 0..<count {
            minutes += Int.random(in: 0...90, using: &random)
            let at = Instant(millisecondsSinceEpoch: 1_795_000_000_000 + Int64(minutes) * 60_000).rfc3339
            let payerNumber = Int.random(in: 0..<8, using: &random)
            let payer = "p\(payerNumber)"
            let country = countries[payerNumber % countries.count]
            let instrument = "card-\(Int.random(in: 0..<2, using: &random))"
            let payee = payees.randomElement(using: &random)!
            let id = "r\(index)"
            var sca = ""
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<2: sca = #","sca":"failed""#
            case 2..<5: sca = #","sca":"passed""#
            default: break  // absent: passed in replay
            }
            let head = #"{"id":"\#(id)","at":"\#(at)","#
            let payerJSON = #""payer":{"id":"\#(payer)","psp_country":"\#(country)","instrument":"\#(instrument)"}"#
            let payeeCountry = Int.random(in: 0..<12, using: &random) == 0 ? "US" : country
            let payeeJSON = #""payee":{"id":"\#(payee)","psp_country":"\#(payeeCountry)"}"#
            let currency = country == "GB" ? "GBP" : (country == "PL" ? "PLN" : "EUR")
            let amount = "\(Int.random(in: 1...(Int.random(in: 0..<4, using: &random) == 0 ? 600 : 60), using: &random)).\(Int.random(in: 10...99, using: &random))"
            let risk = #""risk":{"score":\#(Double(Int.random(in: 0...30, using: &random)) / 100)}"#
            var line: String
            switch Int.random(in: 0..<20, using: &random) {
            case 0..<9:
                let channel = Int.random(in: 0..<3, using: &random) == 0 ? "contactless" : "remote"
                let recurring = Int.random(in: 0..<6, using: &random) == 0
                line = head + #""action":"payment",\#(payerJSON),\#(payeeJSON),"amount":{"value":"\#(recurring ? "9.99" : amount)","currency":"\#(currency)"},"#
                line += #""payment":{"method":"\#(Int.random(in: 0..<4, using: &random) == 0 ? "credit_transfer" : "card")","channel":"\#(channel)","initiator":"payer","recurring":\#(recurring)},\#(risk)\#(sca)}"#
            case 9..<11:
                let reference = ids.isEmpty ? "none" : ids.randomElement(using: &random)!
                line = head + #""action":"payment",\#(payerJSON),\#(payeeJSON),"amount":{"value":"\#(amount)","currency":"\#(currency)"},"#
                line += #""payment":{"method":"card","channel":"remote","initiator":"merchant","mandate_ref":"\#(reference)"}\#(sca)}"#
            case 11..<13:
                line = head + #""action":"login",\#(payerJSON)\#(sca)}"#
            case 13:
                line = head + #""action":"trust_beneficiary",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            case 14:
                line = head + #""action":"store_credential",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            case 15..<18:
                let present = Int.random(in: 0..<2, using: &random) == 0
                line = head + #""action":"ais_access",\#(payerJSON),"consent":{"id":"c\#(payerNumber % 3)"},"customer_present":\#(present)\#(sca)}"#
            default:
                line = head + #""action":"add_beneficiary",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            }
            ids.append(id)
            out.append(line)
        }
        return out
    }
}
