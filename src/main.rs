//! The `kdeck` binary: the command line (clap), `demo`, and the screenshot
//! driver. Everything else lives in the layer crates (see ARCHITECTURE.md).

mod cli;
mod shots;
mod svg;

// Millions of small JSON allocations (the simulator, the fleet model) fare
// better with mimalloc than with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
