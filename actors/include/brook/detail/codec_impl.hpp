#pragma once
/// @file
/// Internals of <brook/codec.hpp>, which includes this header after
/// declaring `brook::bytes`, `decode_error` and `codec_options`. Include
/// <brook/codec.hpp> instead. In four parts: shapes and names, the encoder,
/// the decoder, JSON Schema.
#include <brook/detail/codec_read.hpp>
#include <brook/detail/codec_schema.hpp>
#include <brook/detail/codec_shape.hpp>
#include <brook/detail/codec_write.hpp>
