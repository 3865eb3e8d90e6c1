use lambda_runtime::{Error, LambdaEvent, service_fn};

use aws_lambda_events::event::dynamodb::Event;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let config = shared::Config::from_env_or_exit();
    let dispatcher = &dispatch::Dispatcher::new(&config).await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Event>| async move {
        Ok::<_, Error>(dispatcher.handle(event.payload).await)
    }))
    .await
}
