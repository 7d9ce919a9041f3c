import { describe, expect, it } from 'vitest';
import { compileProjection, project } from './index.js';

const item = {
  pk: 'p',
  title: 'Book',
  reviews: { five: ['great', 'fine'], one: ['bad'] },
  related: ['a', 'b', 'c'],
  'odd.name': 1,
};

describe('projection', () => {
  it('a projection keeps only the listed top-level attributes', () => {
    expect(compileProjection('pk, title, absent').project(item)).toEqual({ pk: 'p', title: 'Book' });
  });

  it('a nested map path keeps only that branch', () => {
    expect(compileProjection('reviews.one').project(item)).toEqual({ reviews: { one: ['bad'] } });
  });

  it('list indexes keep the selected elements in list order, closing the gaps', () => {
    expect(compileProjection('related[2], related[0], related[9]').project(item)).toEqual({
      related: ['a', 'c'],
    });
  });

  it('a parent whose projected children are all missing is dropped', () => {
    expect(compileProjection('reviews.three, related[7]').project(item)).toEqual({});
  });

  it('names are substituted, so an attribute with a dot can be projected', () => {
    expect(compileProjection('#o, #r.five[1]', { '#o': 'odd.name', '#r': 'reviews' }).project(item)).toEqual({
      'odd.name': 1,
      reviews: { five: ['fine'] },
    });
  });

  it('the projected item shares no containers with the source item', () => {
    const projected = compileProjection('reviews').project(item) as { reviews: { one: string[] } };
    projected.reviews.one.push('mutated');
    expect(item.reviews.one).toEqual(['bad']);
  });

  it('project accepts the parsed paths directly', () => {
    expect(project([['title'], ['related', 1]], item)).toEqual({ title: 'Book', related: ['b'] });
  });
});
