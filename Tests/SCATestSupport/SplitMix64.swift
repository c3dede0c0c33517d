/// The seeded generator the simulation uses (SCACards), shared by the test targets: a seed
/// gives the same stream on every platform, so a failing seed can be replayed.
@_exported import struct SCACards.SplitMix64
