public enum MoonlabVersion {
  public static let string = "0.1.0"
}
