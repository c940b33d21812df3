import { describe, expect, it } from 'vitest'
import { rateLimiter } from '../../src/main/server/public.js'

describe('public listener rate limiter', () => {
  it('allows the rate, refuses beyond it, and refills with time', () => {
    let t = 0
    const limiter = rateLimiter(10, () => t)
    const first = Array.from({ length: 15 }, () => limiter.take())
    expect(first.filter(Boolean).length).toBe(10)
    t += 500
    const later = Array.from({ length: 10 }, () => limiter.take())
    expect(later.filter(Boolean).length).toBe(5)
  })
})
