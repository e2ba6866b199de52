fn main() -> std::process::ExitCode {
    kdeck::cli::main()
}
