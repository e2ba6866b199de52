//! The cockpit: a full-screen terminal UI over the live fleet model, made of
//! components ([`component::Component`]): the panes, the popups, the forms
//! and the input line, held together by the shell ([`cockpit::Cockpit`]).
//! Keys map to actions through [`keymap`], per context; colours come by
//! role from [`theme`]; drawing ([`draw`]) is a pure function of the state.
//! The event loop ([`app`]) owns the network: components ask for work as
//! effects and get the answers back by request id.

pub mod app;
mod audit_io;
pub mod cockpit;
pub mod component;
pub mod config;
pub mod draw;
pub mod editor;
pub mod error;
pub mod fetch;
pub mod forms;
pub mod input;
pub mod keymap;
pub mod notify;
pub mod overlays;
pub mod panes;
mod reads;
pub mod term;
pub mod theme;
pub mod widgets;
