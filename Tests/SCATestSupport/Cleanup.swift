/// Runs `body`, then `cleanup`, whether `body` returned or threw (its error is rethrown):
/// what `defer` would do if it could await. Test fixtures close their stores this way, so
/// a test that throws reports its error instead of leaving an SQLite connection open, which
/// stops the whole run with an assertion.
public func withCleanup<T>(
    _ body: () async throws -> T, cleanup: () async -> Void
) async throws -> T {
    let value: T
    do {
        value = try await body()
    } catch {
        await cleanup()
        throw error
    }
    await cleanup()
    return value
}
