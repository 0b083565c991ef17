//! The passkey ceremonies without a browser: a software authenticator answers with real
//! keys and real WebAuthn messages, and webauthn-rs checks them as it would a browser's.

use super::assertion::{PASSKEY_CLONED, PASSKEY_EXPIRED, PASSKEY_FAILED};
use super::registration::SIGN_IN_AGAIN;
use super::soft_authenticator::SoftAuthenticator;
use super::soft_authenticator::{alice_signed_in, register};
use super::*;
use crate::flows::Actor;
use crate::flows::admin::access::{AdminAccess, admin_access, admin_step};
use crate::flows::admin::{UserInput, add_user, remove_user_passkey, reset_mfa};
use crate::flows::error::FlowError;
use crate::flows::interaction::{Browser, Continuation, LoginStep, Step};
use crate::flows::session::start_session;
use crate::flows::testkit::{FlowTest, PASSWORD, browser, meta};
use crate::model::Authentication;
use crate::model::{ACR_PHISHING_RESISTANT, Destination};
use crate::security::secret::SecretString;

fn to_account() -> Continuation {
    Continuation::Page(Destination::Account)
}

async fn options_in(t: &FlowTest, browser: &Browser) -> PasskeyOptions {
    sign_in_options(&t.ctx(), &to_account(), browser, &meta()).await.unwrap()
}

async fn answer_in(t: &FlowTest, browser: &Browser, ceremony: &str, credential: String) -> LoginStep {
    let answer = PasskeyAnswer { ceremony: ceremony.to_owned(), credential };
    sign_in(&t.ctx(), to_account(), &answer, browser, &meta()).await.unwrap()
}

async fn passkey_sign_in(t: &FlowTest, browser: &Browser, key: &mut SoftAuthenticator) -> LoginStep {
    let options = options_in(t, browser).await;
    let credential = key.assert(&options);
    answer_in(t, browser, &options.ceremony, credential).await
}

fn login_error(step: &LoginStep) -> Option<&'static str> {
    match &step.outcome {
        Step::Login(page) => page.error,
        _ => None,
    }
}

async fn audited(t: &FlowTest, event: &str) -> usize {
    t.store.recent_audit_events(1_000).await.unwrap().iter().filter(|e| e.event == event).count()
}

#[tokio::test]
async fn a_registered_passkey_signs_in_alone_at_the_phishing_resistant_level() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let mut key = SoftAuthenticator::device_bound();

    let added = register(&t, &alice, &mut key).await;
    let step = passkey_sign_in(&t, &browser("another laptop"), &mut key).await;

    let RegistrationOutcome::Added { recovery_codes: Some(codes) } = added else { panic!("{added:?}") };
    assert_eq!(codes.len(), 10, "the first second factor comes with recovery codes");
    assert_eq!(step.outcome, Step::Destination(Destination::Account));
    let session = step.session.expect("signed in").session;
    assert_eq!(session.user.username.as_str(), "alice");
    assert_eq!(session.session.authentication.acr, ACR_PHISHING_RESISTANT);
    assert_eq!(session.session.authentication.amr, ["hwk", "user", "mfa"]);
    let stored = t.store.list_passkeys(session.user.id).await.unwrap();
    assert_eq!((stored[0].sign_count, stored[0].aaguid), (1, Some(uuid::Uuid::from_bytes([7; 16]))));
    assert_eq!((audited(&t, "passkey_registered").await, audited(&t, "passkey_used").await), (1, 1));
}

#[tokio::test]
async fn a_passkey_challenge_is_answered_once_in_the_browser_that_asked_and_within_five_minutes() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let mut key = SoftAuthenticator::synced();
    register(&t, &alice, &mut key).await;
    let (mine, theirs) = (browser("mine"), browser("theirs"));

    let options = options_in(&t, &mine).await;
    let credential = key.assert(&options);
    let first = answer_in(&t, &mine, &options.ceremony, credential.clone()).await;
    let replayed = answer_in(&t, &mine, &options.ceremony, credential).await;

    let options = options_in(&t, &mine).await;
    let credential = key.assert(&options);
    let elsewhere = answer_in(&t, &theirs, &options.ceremony, credential.clone()).await;
    let after_elsewhere = answer_in(&t, &mine, &options.ceremony, credential).await;

    let options = options_in(&t, &mine).await;
    let credential = key.assert(&options);
    t.clock.advance(CEREMONY_SECONDS + 1);
    let late = answer_in(&t, &mine, &options.ceremony, credential).await;

    let options = options_in(&t, &mine).await;
    let for_account = PasskeyAnswer { ceremony: options.ceremony.clone(), credential: key.assert(&options) };
    let to_admin = sign_in(&t.ctx(), Continuation::Page(Destination::Admin), &for_account, &mine, &meta()).await;

    assert!(first.session.is_some());
    for (name, step) in [("replayed", replayed), ("elsewhere", elsewhere), ("after", after_elsewhere), ("late", late)] {
        assert!(step.session.is_none(), "{name}: not signed in");
        assert_eq!(login_error(&step), Some(PASSKEY_EXPIRED), "{name}");
    }
    assert!(matches!(to_admin.unwrap().outcome, Step::Expired), "a ceremony is for the page it was asked for");
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused_as_a_cloned_authenticator_audited_and_removed() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let mut key = SoftAuthenticator::device_bound();
    register(&t, &alice, &mut key).await;
    let mut copy = key.clone_key();
    let somewhere = browser("somewhere");

    assert!(passkey_sign_in(&t, &somewhere, &mut key).await.session.is_some());
    assert!(passkey_sign_in(&t, &somewhere, &mut key).await.session.is_some());
    let cloned = passkey_sign_in(&t, &browser("the thief's"), &mut copy).await;

    let copy_ahead = {
        copy.counter = 10;
        passkey_sign_in(&t, &browser("the thief's"), &mut copy).await
    };
    let original = passkey_sign_in(&t, &somewhere, &mut key).await;

    assert!(cloned.session.is_none());
    assert_eq!(login_error(&cloned), Some(PASSKEY_CLONED));
    assert_eq!(audited(&t, "passkey_clone_suspected").await, 1);
    assert!(t.store.list_passkeys(alice.session.unwrap().user.id).await.unwrap().is_empty(), "removed");
    assert!(copy_ahead.session.is_none(), "a copy counting past the original is refused too");
    assert!(original.session.is_none(), "so is the original, until its owner adds it again");
}

#[tokio::test]
async fn adding_or_removing_a_passkey_needs_a_sign_in_from_the_last_five_minutes() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let session = alice.session.clone().unwrap();
    let mut key = SoftAuthenticator::synced();
    let early = registration_options(&t.ctx(), &session, &alice).await.unwrap();
    register(&t, &alice, &mut key).await;
    let id = t.store.list_passkeys(session.user.id).await.unwrap()[0].id.to_string();

    t.clock.advance(crate::flows::session::RECENT_SIGN_IN_SECONDS + 1);
    let options = registration_options(&t.ctx(), &session, &alice).await;
    let mut other = SoftAuthenticator::device_bound();
    let credential = other.register(&early);
    let finished =
        finish_registration(&t.ctx(), &session, &alice, &early.ceremony, "Old", &credential, &meta()).await.unwrap();
    let removed = remove_passkey(&t.ctx(), &session, &id, &meta()).await;

    assert!(matches!(options, Err(FlowError::Mistake(m)) if m == SIGN_IN_AGAIN));
    assert_eq!(finished, RegistrationOutcome::Refused(SIGN_IN_AGAIN.to_owned()));
    assert!(matches!(removed, Err(FlowError::Mistake(m)) if m == SIGN_IN_AGAIN));
    assert_eq!(t.store.list_passkeys(session.user.id).await.unwrap().len(), 1, "nothing changed");
}

#[tokio::test]
async fn an_administrator_removes_a_passkey_and_a_support_reset_removes_them_all() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let user_id = alice.session.as_ref().unwrap().user.id;
    let mut laptop = SoftAuthenticator::synced();
    register(&t, &alice, &mut laptop).await;
    let id = t.store.list_passkeys(user_id).await.unwrap()[0].id;

    let removed = remove_user_passkey(&t.ctx(), user_id, id, Actor::Cli).await.unwrap();
    let again = remove_user_passkey(&t.ctx(), user_id, id, Actor::Cli).await.unwrap();
    let with_removed = passkey_sign_in(&t, &browser("laptop"), &mut laptop).await;
    let mut phone = SoftAuthenticator::device_bound();
    register(&t, &alice, &mut phone).await;
    let reset = reset_mfa(&t.ctx(), "alice", Actor::Cli).await.unwrap();
    let after_reset = passkey_sign_in(&t, &browser("phone"), &mut phone).await;

    assert!(removed && !again, "removed once");
    assert!(with_removed.session.is_none() && login_error(&with_removed) == Some(PASSKEY_FAILED));
    assert!(reset, "the reset found a factor to remove");
    assert!(t.store.list_passkeys(user_id).await.unwrap().is_empty());
    assert!(after_reset.session.is_none() && login_error(&after_reset) == Some(PASSKEY_FAILED));
    assert_eq!(audited(&t, "passkey_removed").await, 1);
}

#[tokio::test]
async fn the_authenticator_allow_list_and_the_passwordless_switch_are_kept() {
    let others_only =
        FlowTest::configured(|c| c.passkeys.allowed_aaguids = vec![uuid::Uuid::from_bytes([9; 16])]).await;
    let ours = FlowTest::configured(|c| c.passkeys.allowed_aaguids = vec![uuid::Uuid::from_bytes([7; 16])]).await;
    let second_factor_only = FlowTest::configured(|c| c.passkeys.passwordless = false).await;

    let alice = alice_signed_in(&others_only).await;
    let refused = register(&others_only, &alice, &mut SoftAuthenticator::synced()).await;
    let alice = alice_signed_in(&ours).await;
    let accepted = register(&ours, &alice, &mut SoftAuthenticator::synced()).await;
    let passwordless = sign_in_options(&second_factor_only.ctx(), &to_account(), &browser("b"), &meta()).await;

    assert_eq!(
        refused,
        RegistrationOutcome::Refused("This authenticator is not one this service accepts. Use another one.".into())
    );
    assert!(matches!(accepted, RegistrationOutcome::Added { .. }));
    assert!(matches!(passwordless, Err(FlowError::Mistake(_))), "passkeys only after a password");
}

#[tokio::test]
async fn one_answer_posted_twenty_times_at_once_signs_in_once() {
    let t = FlowTest::new().await;
    let alice = alice_signed_in(&t).await;
    let mut key = SoftAuthenticator::device_bound();
    register(&t, &alice, &mut key).await;
    let mine = browser("mine");
    let options = options_in(&t, &mine).await;
    let credential = key.assert(&options);

    let answers =
        futures::future::join_all((0..20).map(|_| answer_in(&t, &mine, &options.ceremony, credential.clone()))).await;

    assert_eq!(answers.iter().filter(|a| a.session.is_some()).count(), 1);
    assert_eq!(audited(&t, "passkey_used").await, 1);
}

#[tokio::test]
async fn when_the_admin_pages_require_a_passkey_two_factors_are_not_enough() {
    let t = FlowTest::configured(|c| c.admin.require_phishing_resistant = true).await;
    let input = UserInput {
        username: "root".into(),
        password: Some(SecretString::new(PASSWORD)),
        is_admin: true,
        ..UserInput::default()
    };
    let (root, _) = add_user(&t.ctx(), input, Actor::Cli).await.unwrap();
    let two = start_session(&t.ctx(), root, Authentication::two_factor(1_800_000_000), &meta()).await.unwrap();
    let admin_browser = Browser { session: Some(two.session), ..browser("root") };

    let without_passkey = admin_step(&t.ctx(), &admin_browser).await.unwrap();
    let mut key = SoftAuthenticator::device_bound();
    register(&t, &admin_browser, &mut key).await;
    let with_passkey = admin_step(&t.ctx(), &admin_browser).await.unwrap();

    assert!(matches!(admin_access(&t.ctx(), &admin_browser), AdminAccess::StepFirst), "two factors, not enough");
    assert_eq!(without_passkey, Some(Step::PasskeyNeeded));
    let Some(Step::SecondFactor(page)) = with_passkey else { panic!("{with_passkey:?}") };
    assert!(page.methods.passkey && !page.methods.code, "the passkey only");
}
