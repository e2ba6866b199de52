//! The cockpit: a full-screen terminal UI over the live fleet model.
//! Keys map to actions through [`keymap`]; colours come by role from
//! [`theme`]; the state is plain data changed by actions; drawing is a pure
//! function of the state.

pub mod app;
pub mod config;
pub mod copyflow;
pub mod draw;
pub mod editor;
pub mod fetch;
pub mod keymap;
pub mod notify;
pub mod rows;
pub mod state;
pub mod term;
pub mod theme;
