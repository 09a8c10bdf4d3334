//! Answers for unknown routes and methods, in the spec's error format.

use byrd_spec::error::ErrorCode;

use crate::error::ApiError;

pub async fn not_found() -> ApiError {
    ApiError::from_code(ErrorCode::NotFound)
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::from_code(ErrorCode::MethodNotAllowed)
}
