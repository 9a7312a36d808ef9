/// Which code the kernels were compiled to (Package.swift picks it from the building
/// machine; docs/architecture.md, "Build targets"). Run records keep it, because the two
/// builds round fused multiply-adds differently: results are bit-identical only within one.
public enum KernelBuild {
  #if MOONLAB_AVX512
    public static let name = "avx512"
  #elseif MOONLAB_FMA
    public static let name = "avx2-fma"
  #else
    public static let name = "portable"
  #endif
}
