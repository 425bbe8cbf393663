//! What a new user meets in the first hour (issue 17), at a real terminal: `rolecall assume`
//! typed where the function was meant, and what the prompt shows for sessions that are not a
//! profile's role (long-term keys, a bare role ARN).

use crate::common::{Shell, World, BASE_KEYS, ONE_HOP};

fn world() -> World {
    let world = World::with_moto();
    world.write_config(ONE_HOP);
    world.write_credentials(BASE_KEYS);
    world
}

#[test]
fn rolecall_assume_at_a_terminal_points_to_the_function_when_the_shell_has_it() {
    let world = world();
    let loaded = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
    loaded.wait_for_text("RC$");
    loaded.line("rolecall assume demo-admin");
    let screen = loaded.wait_for_text("shows nothing on a terminal");
    assert!(
        screen.contains("This shell has the integration: run `assume demo-admin`"),
        "{screen}"
    );
    assert!(!screen.contains("Add this line"), "{screen}");

    let bare = Shell::new(&world, "bash")
        .bare()
        .before("PS1='RC$ '")
        .terminal("");
    bare.wait_for_text("RC$");
    bare.line("rolecall assume demo-admin");
    let screen = bare.wait_for_text("shows nothing on a terminal");
    assert!(
        screen.contains("Add this line to ~/.bashrc") && !screen.contains("This shell has"),
        "{screen}"
    );
}

#[test]
fn the_prompt_names_long_term_keys_and_shortens_a_role_arn() {
    let world = world();
    let tmux = Shell::new(&world, "bash").before("PS1='RC$ '").terminal("");
    tmux.wait_for_text("RC$");
    tmux.line("assume base");
    let screen = tmux.wait_for_text("[base keys]");
    assert!(!screen.contains("[base ]"), "{screen}");
    tmux.line("assume arn:aws:iam::111111111111:role/admin --source-profile base");
    let screen = tmux.wait_for_text("[admin@111111111111 ");
    assert!(
        !screen.contains("[arn:aws:iam::111111111111:role/admin"),
        "{screen}"
    );
}
