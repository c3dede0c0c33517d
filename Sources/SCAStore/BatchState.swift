import SCARules
import SQLKit

/// The rules state one batch of decisions reads and writes: the rows the requests need,
/// loaded by key into an `InMemoryState` (so the batch decides with exactly the rules of
/// `sca decide`), changed there as each decision's effects are applied, and written back
/// from the effects in a few statements. Within the batch's transaction the payers' rows
/// are locked, so no other node changes them between the reading and the writing.
struct BatchState {
    struct PayeeKey: Hashable {
        let payer: PayerID
        let payee: PayeeID
    }

    struct MandateKey: Hashable {
        let payer: PayerID
        let request: RequestID
    }

    /// The retention class of a mandate row (the in-memory store keeps one ring each).
    enum MandateKind: String {
        case setUp = "set_up"
        case payment
        init(_ origin: Mandate.Origin) { self = origin == .payment ? .payment : .setUp }
    }

    let configuration: RulesConfiguration
    private var memory = InMemoryState()
    /// The batch's payers, with the version of each one's row; nil for a payer that has no
    /// row yet (on SQLite it is created when written).
    private(set) var versions: [PayerID: Int64?] = [:]
    /// Each payer's session as read, so that only a changed one is written back.
    private var sessionsRead: [PayerID: Instant] = [:]

    // What changed, to write back: the latest value of each key.
    private var changedCounters: [InstrumentKey: InstrumentCounters] = [:]
    private var newSeries: Set<SeriesKey> = []
    private var newTrusted: Set<PayeeKey> = []
    private var changedConsents: [ConsentKey: Consent] = [:]
    /// By payer, kind and request id (the newest record wins, as in memory), with the
    /// audit sequence that recorded it.
    private var newMandates: [String: (key: MandateKey, mandate: Mandate, recorded: Int64)] = [:]

    init(configuration: RulesConfiguration) { self.configuration = configuration }

    // MARK: Keys

    /// The state rows a request's decision reads.
    struct Keys {
        var payers: Set<PayerID> = []
        var instruments: Set<InstrumentKey> = []
        var series: Set<SeriesKey> = []
        var payees: Set<PayeeKey> = []
        var consents: Set<ConsentKey> = []
        var mandates: Set<MandateKey> = []

        mutating func add(_ request: DecisionRequest) {
            let payer = request.payer.id
            payers.insert(payer)
            if let instrument = request.payer.instrument {
                instruments.insert(InstrumentKey(payer: payer, instrument: instrument))
            }
            if let key = request.seriesKey { series.insert(key) }
            if let payee = request.payee?.id, request.action == .payment {
                payees.insert(PayeeKey(payer: payer, payee: payee))
            }
            if let consent = request.consent { consents.insert(ConsentKey(payer: payer, consent: consent)) }
            if let reference = request.payment?.mandateRef { mandates.insert(MandateKey(payer: payer, request: reference)) }
        }
    }

    // MARK: Deciding

    func prior(for request: DecisionRequest) -> PriorState { memory.prior(for: request) }

    /// Applies a decision's effects; `recorded` orders mandates (the decision's audit sequence).
    mutating func apply(_ effects: StateEffects, of request: DecisionRequest, recorded: Int64) {
        guard !effects.isEmpty else { return }
        memory.apply(effects, of: request, configuration: configuration)
        let payer = request.payer.id
        if let value = effects.counters, let instrument = request.payer.instrument {
            changedCounters[InstrumentKey(payer: payer, instrument: instrument)] = value
        }
        if let key = effects.establishSeries { newSeries.insert(key) }
        if let payee = effects.trustPayee { newTrusted.insert(PayeeKey(payer: payer, payee: payee)) }
        if let value = effects.consent, let consent = request.consent {
            changedConsents[ConsentKey(payer: payer, consent: consent)] = value
        }
        if let mandate = effects.mandate, let id = request.id {
            let key = MandateKey(payer: payer, request: id)
            newMandates["\(payer.value)\u{0}\(MandateKind(mandate.origin).rawValue)\u{0}\(id.value)"] = (key, mandate, recorded)
        }
    }

    // MARK: SQL

    /// The statements of a batch, described once (see `RowStatement`).
    enum Statements {
        // PostgreSQL: creates the missing payer rows, and locks and reads them all (an
        // upsert that leaves existing rows as they are still takes their row locks).
        static let lockPayers = RowStatement.Shape.insert(
            into: "payers", "payer, version, session_last_activity",
            " ON CONFLICT (payer) DO UPDATE SET version = payers.version RETURNING payer, version, session_last_activity"
        )
        // SQLite: the batch already holds the database's write lock, so the rows are read.
        static let readPayers = RowStatement.Shape.lookup("payer, version, session_last_activity", from: "payers", by: "payer")
        static let readCounters = RowStatement.Shape.lookup(counterColumns, from: "instrument_counters", by: "payer", "instrument")
        static let readSeries = RowStatement.Shape.lookup(
            "payer, payee, currency, amount", from: "recurring_series", by: "payer", "payee", "currency", "amount"
        )
        static let readTrusted = RowStatement.Shape.lookup("payer, payee", from: "trusted_payees", by: "payer", "payee")
        static let readConsents = RowStatement.Shape.lookup(
            "payer, consent, last_sca, unattended_day, unattended_count", from: "consents", by: "payer", "consent"
        )
        static let readMandates = RowStatement.Shape.lookup(
            "payer, kind, request_id, payee, origin", from: "mandates", by: "payer", "request_id"
        )
        // The compare-and-set on each locked payer's version (see `write`).
        static let writePayers = RowStatement.Shape.insert(
            into: "payers", "payer, version, session_last_activity",
            " ON CONFLICT (payer) DO UPDATE SET version = excluded.version, session_last_activity = excluded.session_last_activity"
                + " WHERE payers.version = excluded.version - 1 RETURNING payer"
        )
        static let writeCounters = RowStatement.Shape.upsert(
            into: "instrument_counters", counterColumns, key: "payer", "instrument"
        )
        static let writeSeries = RowStatement.Shape.upsert(
            into: "recurring_series", "payer, payee, currency, amount", key: "payer", "payee", "currency", "amount"
        )
        static let writeTrusted = RowStatement.Shape.upsert(into: "trusted_payees", "payer, payee", key: "payer", "payee")
        static let writeConsents = RowStatement.Shape.upsert(
            into: "consents", "payer, consent, last_sca, unattended_day, unattended_count", key: "payer", "consent"
        )
        static let writeMandates = RowStatement.Shape.upsert(
            into: "mandates", "payer, kind, request_id, payee, origin, recorded", key: "payer", "kind", "request_id"
        )
    }

    /// Locks the batch's payers and loads the rows the requests read.
    nonisolated(nonsending) static func load(_ keys: Keys, on database: StoreDatabase, configuration: RulesConfiguration) async throws
        -> BatchState
    {
        let db = database.transaction
        var state = BatchState(configuration: configuration)
        let payers = keys.payers.map(\.value).sorted()
        guard !payers.isEmpty else { return state }

        // The payers' rows are what serialises their decisions across nodes: on PostgreSQL
        // the upsert locks them (in sorted order, so two nodes' batches never deadlock);
        // on SQLite, BEGIN IMMEDIATE has taken the database's only write lock already, so
        // reading them is enough and nothing is written for a payer whose row is unchanged.
        var lock: RowStatement
        switch database.backend {
        case .postgres:
            lock = RowStatement(Statements.lockPayers, reservingRows: payers.count)
            for payer in payers { lock.add(.text(payer), .integer(0), .integer(nil)) }
        case .sqlite:
            lock = RowStatement(Statements.readPayers, reservingRows: payers.count)
            for payer in payers { lock.add(.text(payer)) }
        }
        for row in try await db.all(lock) {
            let payer = PayerID(try row.decode(column: "payer", as: String.self))
            state.versions[payer] = try row.decode(column: "version", as: Int64.self)
            if let last = try row.decode(column: "session_last_activity", as: Int64?.self) {
                let session = Session(lastActivity: Instant(millisecondsSinceEpoch: last))
                state.memory.load(session: session, of: payer)
                state.sessionsRead[payer] = session.lastActivity
            }
        }
        if database.backend == .postgres, state.versions.count != payers.count {
            throw StorageError.corrupt("payer rows missing after insert")
        }
        for payer in payers.map(PayerID.init) where state.versions[payer] == nil {
            state.versions[payer] = .some(nil)
        }

        var counters = RowStatement(Statements.readCounters, reservingRows: keys.instruments.count)
        for key in keys.instruments { counters.add(.text(key.payer.value), .text(key.instrument.value)) }
        for row in try await db.all(counters) {
            let (key, value) = try Self.counters(row)
            state.memory.load(value, for: key)
        }

        var series = RowStatement(Statements.readSeries, reservingRows: keys.series.count)
        for key in keys.series {
            series.add(.text(key.payer.value), .text(key.payee.value), .text(key.amount.currency.code), .integer(key.amount.minorUnits))
        }
        for row in try await db.all(series) {
            let code = try row.decode(column: "currency", as: String.self)
            guard let currency = Currency(code: code) else { throw StorageError.corrupt("unknown currency \(code)") }
            state.memory.load(
                series: SeriesKey(
                    payer: PayerID(try row.decode(column: "payer", as: String.self)),
                    payee: PayeeID(try row.decode(column: "payee", as: String.self)),
                    amount: Money(minorUnits: try row.decode(column: "amount", as: Int64.self), currency: currency)
                ))
        }

        var trusted = RowStatement(Statements.readTrusted, reservingRows: keys.payees.count)
        for key in keys.payees { trusted.add(.text(key.payer.value), .text(key.payee.value)) }
        for row in try await db.all(trusted) {
            state.memory.load(
                trusted: PayeeID(try row.decode(column: "payee", as: String.self)),
                of: PayerID(try row.decode(column: "payer", as: String.self))
            )
        }

        var consents = RowStatement(Statements.readConsents, reservingRows: keys.consents.count)
        for key in keys.consents { consents.add(.text(key.payer.value), .text(key.consent.value)) }
        for row in try await db.all(consents) {
            let key = ConsentKey(
                payer: PayerID(try row.decode(column: "payer", as: String.self)),
                consent: ConsentID(try row.decode(column: "consent", as: String.self))
            )
            state.memory.load(
                Consent(
                    lastSCA: Instant(millisecondsSinceEpoch: try row.decode(column: "last_sca", as: Int64.self)),
                    unattendedDay: try row.decode(column: "unattended_day", as: Int64.self),
                    unattendedCount: Int(try row.decode(column: "unattended_count", as: Int64.self))
                ), for: key)
        }

        var mandates = RowStatement(Statements.readMandates, reservingRows: keys.mandates.count)
        for key in keys.mandates { mandates.add(.text(key.payer.value), .text(key.request.value)) }
        for row in try await db.all(mandates) {
            let payer = PayerID(try row.decode(column: "payer", as: String.self))
            let kindName = try row.decode(column: "kind", as: String.self)
            let originName = try row.decode(column: "origin", as: String.self)
            guard let origin = Mandate.Origin(rawValue: originName), MandateKind(origin).rawValue == kindName else {
                throw StorageError.corrupt("mandate kind \(kindName) does not fit origin \(originName)")
            }
            let mandate = Mandate(
                payer: payer, payee: try row.decode(column: "payee", as: String?.self).map(PayeeID.init), origin: origin
            )
            state.memory.load(
                mandate, as: RequestID(try row.decode(column: "request_id", as: String.self)), configuration: configuration
            )
        }
        return state
    }

    /// Writes what changed. The payer rows are updated only where their version is still
    /// the one read (a compare-and-set on top of the row lock): if any row moved on, the
    /// whole batch fails and is retried rather than overwriting another node's decision.
    nonisolated(nonsending) func write(on database: StoreDatabase) async throws {
        let db = database.transaction
        // The payer rows that are new or whose session changed, each version moved on by one.
        var payers = RowStatement(Statements.writePayers, reservingRows: versions.count)
        for (payer, version) in versions.sorted(by: { $0.key.value < $1.key.value }) {
            let session = memory.session(of: payer)?.lastActivity
            guard version == nil || session != sessionsRead[payer] else { continue }
            payers.add(.text(payer.value), .integer((version ?? 0) + 1), .integer(session?.millisecondsSinceEpoch))
        }
        let updated = try await db.all(payers).count
        guard updated == payers.rowCount else {
            throw StorageError.unavailable("payer state changed under the batch (\(updated) of \(payers.rowCount) rows)")
        }

        var counters = RowStatement(Statements.writeCounters, reservingRows: changedCounters.count)
        for (key, value) in changedCounters {
            counters.add(
                .text(key.payer.value), .text(key.instrument.value), .text(value.regime.rawValue),
                .integer(Int64(value.lowValueCount)), .integer(value.lowValueTotal.minorUnits),
                .integer(value.lowValueSince?.millisecondsSinceEpoch), .integer(Int64(value.contactlessCount)),
                .integer(value.contactlessTotal.minorUnits)
            )
        }
        try await db.run(counters)

        var series = RowStatement(Statements.writeSeries, reservingRows: newSeries.count)
        for key in newSeries {
            series.add(.text(key.payer.value), .text(key.payee.value), .text(key.amount.currency.code), .integer(key.amount.minorUnits))
        }
        try await db.run(series)

        var trusted = RowStatement(Statements.writeTrusted, reservingRows: newTrusted.count)
        for key in newTrusted { trusted.add(.text(key.payer.value), .text(key.payee.value)) }
        try await db.run(trusted)

        var consents = RowStatement(Statements.writeConsents, reservingRows: changedConsents.count)
        for (key, value) in changedConsents {
            consents.add(
                .text(key.payer.value), .text(key.consent.value), .integer(value.lastSCA.millisecondsSinceEpoch),
                .integer(value.unattendedDay), .integer(Int64(value.unattendedCount))
            )
        }
        try await db.run(consents)

        if !newMandates.isEmpty {
            let entries = Array(newMandates.values)
            var mandates = RowStatement(Statements.writeMandates, reservingRows: entries.count)
            for entry in entries {
                mandates.add(
                    .text(entry.key.payer.value), .text(MandateKind(entry.mandate.origin).rawValue),
                    .text(entry.key.request.value), .text(entry.mandate.payee?.value),
                    .text(entry.mandate.origin.rawValue), .integer(entry.recorded)
                )
            }
            try await db.run(mandates)
            // Retention: each payer keeps its newest mandates of each kind up to the limits.
            var pruned: Set<String> = []
            for entry in entries {
                let kind = MandateKind(entry.mandate.origin)
                guard pruned.insert("\(entry.key.payer.value)\u{0}\(kind.rawValue)").inserted else { continue }
                let keep = kind == .payment ? configuration.paymentMandatesPerPayerMax : configuration.mandatesPerPayerMax
                try await db.run(
                    """
                    DELETE FROM mandates WHERE payer = \(bind: entry.key.payer.value) AND kind = \(bind: kind.rawValue) \
                    AND recorded < (SELECT recorded FROM mandates WHERE payer = \(bind: entry.key.payer.value) \
                    AND kind = \(bind: kind.rawValue) ORDER BY recorded DESC LIMIT 1 OFFSET \(bind: keep - 1))
                    """)
            }
        }
    }

    /// The columns every read of `instrument_counters` selects.
    static let counterColumns =
        "payer, instrument, regime, low_value_count, low_value_total, low_value_since, contactless_count, contactless_total"

    /// One `instrument_counters` row.
    static func counters(_ row: any SQLRow) throws -> (InstrumentKey, InstrumentCounters) {
        let key = InstrumentKey(
            payer: PayerID(try row.decode(column: "payer", as: String.self)),
            instrument: InstrumentID(try row.decode(column: "instrument", as: String.self))
        )
        let regimeName = try row.decode(column: "regime", as: String.self)
        guard let regime = Regime(rawValue: regimeName) else {
            throw StorageError.corrupt("unknown regime \(regimeName) in instrument_counters")
        }
        let currency = regime.currency
        return (
            key,
            InstrumentCounters(
                regime: regime,
                lowValueCount: Int(try row.decode(column: "low_value_count", as: Int64.self)),
                lowValueTotal: Money(minorUnits: try row.decode(column: "low_value_total", as: Int64.self), currency: currency),
                lowValueSince: try row.decode(column: "low_value_since", as: Int64?.self).map(Instant.init(millisecondsSinceEpoch:)),
                contactlessCount: Int(try row.decode(column: "contactless_count", as: Int64.self)),
                contactlessTotal: Money(minorUnits: try row.decode(column: "contactless_total", as: Int64.self), currency: currency)
            )
        )
    }
}
