// Millions of small JSON allocations (the simulator, the fleet model) fare
// better with mimalloc than with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    kdeck::cli::main()
}
