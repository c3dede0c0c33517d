/// The engine's version, as `sca --version` prints it (see CHANGELOG.md).
public enum EngineVersion {
    public static let current = "0.1.0-dev"
}
