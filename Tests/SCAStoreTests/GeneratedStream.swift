import SCARules
import SCATestSupport

/// A seeded stream of contract lines touching every kind of state the store keeps:
/// counters (remote and contactless), sessions, series, trusted payees, consents and
/// mandates, with SCA passed, failed or absent, across both regimes and one-leg-out.
enum GeneratedStream {
    static func lines(seed: UInt64, count: Int) -> [String] {
        var random = SplitMix64(state: seed)
        var minutes = 0
        var ids: [String] = []
        var out: [String] = []
        let countries = ["DE", "PL", "GB", "FR"]
        let payees = ["shop", "rent", "gym", "cafe"]
        for index in 0..<count {
            minutes += random.below(91)
            let at = Instant(millisecondsSinceEpoch: 1_795_000_000_000 + Int64(minutes) * 60_000).rfc3339
            let payerNumber = random.below(8)
            let payer = "p\(payerNumber)"
            let country = countries[payerNumber % countries.count]
            let instrument = "card-\(random.below(2))"
            let payee = random.pick(payees)
            let id = "r\(index)"
            var sca = ""
            switch random.below(10) {
            case 0..<2: sca = #","sca":"failed""#
            case 2..<5: sca = #","sca":"passed""#
            default: break  // absent: passed in replay
            }
            let head = #"{"id":"\#(id)","at":"\#(at)","#
            let payerJSON = #""payer":{"id":"\#(payer)","psp_country":"\#(country)","instrument":"\#(instrument)"}"#
            let payeeCountry = random.below(12) == 0 ? "US" : country
            let payeeJSON = #""payee":{"id":"\#(payee)","psp_country":"\#(payeeCountry)"}"#
            let currency = country == "GB" ? "GBP" : (country == "PL" ? "PLN" : "EUR")
            let whole = 1 + random.below(random.below(4) == 0 ? 600 : 60)
            let amount = "\(whole).\(10 + random.below(90))"
            let risk = #""risk":{"score":\#(Double(random.below(31)) / 100)}"#
            var line: String
            switch random.below(20) {
            case 0..<9:
                let channel = random.below(3) == 0 ? "contactless" : "remote"
                let recurring = random.below(6) == 0
                line =
                    head
                    + #""action":"payment",\#(payerJSON),\#(payeeJSON),"amount":{"value":"\#(recurring ? "9.99" : amount)","currency":"\#(currency)"},"#
                line +=
                    #""payment":{"method":"\#(random.below(4) == 0 ? "credit_transfer" : "card")","channel":"\#(channel)","initiator":"payer","recurring":\#(recurring)},\#(risk)\#(sca)}"#
            case 9..<11:
                let reference = ids.isEmpty ? "none" : random.pick(ids)
                line = head + #""action":"payment",\#(payerJSON),\#(payeeJSON),"amount":{"value":"\#(amount)","currency":"\#(currency)"},"#
                line += #""payment":{"method":"card","channel":"remote","initiator":"merchant","mandate_ref":"\#(reference)"}\#(sca)}"#
            case 11..<13:
                line = head + #""action":"login",\#(payerJSON)\#(sca)}"#
            case 13:
                line = head + #""action":"trust_beneficiary",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            case 14:
                line = head + #""action":"store_credential",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            case 15..<18:
                let present = random.below(2) == 0
                line =
                    head
                    + #""action":"ais_access",\#(payerJSON),"consent":{"id":"c\#(payerNumber % 3)"},"customer_present":\#(present)\#(sca)}"#
            default:
                line = head + #""action":"add_beneficiary",\#(payerJSON),\#(payeeJSON)\#(sca)}"#
            }
            ids.append(id)
            out.append(line)
        }
        return out
    }
}
